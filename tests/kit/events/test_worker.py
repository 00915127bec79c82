"""The worker process: scheduler → outbox → relay → stream → consumer, until SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from dudao.events.consumer import consumer
from dudao.events.worker import run_worker
from dudao.ids import uuid7
from dudao.scheduler import scheduled
from dudao.uow import UnitOfWork
from tests.kit.events.support import DIVISION, ThingDue, World, due_class, eventually


async def test_worker_carries_a_timed_fact_to_its_consumer_and_stops_on_sigterm(world: World) -> None:
    thing = world.thing
    overdue = due_class(world.subject("worker", "overdue"))
    thing_id = uuid7()
    async with world.engine.begin() as conn:
        await conn.execute(insert(thing).values(id=thing_id, due_at=world.clock.now() - timedelta(minutes=1)))

    @scheduled(every=timedelta(seconds=1), name="worker-overdue")
    async def mark_overdue(uow: UnitOfWork, now: datetime) -> int:
        rows = (
            await uow.session.execute(
                select(thing.c.id, thing.c.due_at)
                .where(thing.c.id == thing_id, thing.c.notified_at.is_(None))
                .with_for_update(skip_locked=True)
            )
        ).all()
        for r in rows:
            await uow.session.execute(update(thing).where(thing.c.id == r.id).values(notified_at=now))
            uow.emit(overdue(thing_id=r.id, due_at=r.due_at, division=DIVISION))
        return len(rows)

    @consumer(overdue.event_type, durable=world.durable("worker"))
    async def count_it(event: ThingDue, uow: UnitOfWork) -> None:
        await uow.session.execute(update(thing).where(thing.c.id == event.thing_id).values(n=thing.c.n + 1))

    async def applied() -> bool:
        async with world.engine.connect() as conn:
            n = (await conn.execute(select(thing.c.n).where(thing.c.id == thing_id))).scalar_one()
        return bool(n == 1)

    settings = world.settings(outbox_poll_seconds=30.0, scheduler_tick_seconds=0.05)
    worker = asyncio.create_task(
        run_worker(
            service_name="testkit",
            source=world.source,
            kit=world.kit,
            extra_kits=[],
            consumers=[count_it],
            jobs=[mark_overdue],
            settings=settings,
            clock=world.clock,
        )
    )
    try:
        await eventually(applied, what="the consumer applied the scheduler's fact")
    finally:
        if not worker.done():  # once the worker has returned, SIGTERM would end the test run itself
            os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(worker, 15.0)

    assert [r["published_at"] is not None for r in await world.outbox_rows(overdue.event_type)] == [True]
