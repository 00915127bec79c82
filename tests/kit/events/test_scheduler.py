"""Timed jobs: any number of schedulers notice each fact once, and a failing job never stops the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import insert, select, update

from dudao.clock import Clock
from dudao.ids import uuid7
from dudao.scheduler import ScheduledJob, Scheduler, scheduled
from dudao.uow import UnitOfWork
from tests.kit.events.support import DIVISION, ThingDue, World, due_class, eventually, running

EVERY = timedelta(milliseconds=50)


async def test_two_schedulers_emit_each_fact_once(world: World) -> None:
    clock = Clock()
    due = await _add_things(world, 40, due_at=clock.now() - timedelta(minutes=1))
    later = await _add_things(world, 10, due_at=clock.now() + timedelta(hours=1))
    overdue = due_class(world.subject("thing", "overdue"))
    reminded = due_class(world.subject("thing", "reminded"))
    mark, remind = _mark_overdue(world, overdue, due + later), _remind(world, reminded, due + later)
    schedulers = [_scheduler(world, [mark, remind], clock) for _ in range(2)]

    marked = await asyncio.gather(*(s.run_once(mark) for s in schedulers))
    reminders = await asyncio.gather(*(s.run_once(remind) for s in schedulers))

    assert sum(marked) == 40  # each due row was locked and marked by one of them
    assert reminders == [40, 40]  # both noticed every fact …
    assert await _facts(world, reminded) == sorted(due)  # … and the outbox holds each once
    assert await _facts(world, overdue) == sorted(due)
    rows = await world.outbox_rows(overdue.event_type)
    assert {r["event_id"] for r in rows} == {
        overdue.model_validate(r["envelope"]["data"]).event_id() for r in rows
    }

    clock.advance(timedelta(hours=2))
    assert sum(await asyncio.gather(*(s.run_once(mark) for s in schedulers))) == 10
    assert await _facts(world, overdue) == sorted(due + later)


async def test_scheduler_loops_survive_a_failing_job_and_emit_each_fact_once(world: World) -> None:
    clock = Clock()
    due = await _add_things(world, 30, due_at=clock.now() - timedelta(minutes=1))
    overdue = due_class(world.subject("loop", "overdue"))
    failures: list[datetime] = []

    @scheduled(every=EVERY, name="always-fails")
    async def always_fails(uow: UnitOfWork, now: datetime) -> int:
        failures.append(now)
        raise RuntimeError("the job is broken")

    more = [uuid7() for _ in range(10)]
    mark = _mark_overdue(world, overdue, due + more)
    schedulers = [_scheduler(world, [always_fails, mark], clock) for _ in range(2)]
    async with running(schedulers[0]), running(schedulers[1]):
        await eventually(lambda: _count(world, overdue, 30), what="the first thirty facts")
        await _add_things(world, 10, due_at=clock.now() - timedelta(minutes=1), ids=more)
        await eventually(lambda: _count(world, overdue, 40), what="the ten later facts")
        failed_so_far = len(failures)
        await eventually(lambda: _more_than(failures, failed_so_far), what="the failing job retried")

    assert await _facts(world, overdue) == sorted(due + more)


def _scheduler(world: World, jobs: Sequence[ScheduledJob], clock: Clock) -> Scheduler:
    settings = world.settings(scheduler_tick_seconds=0.02)
    return Scheduler(world.sessions, world.kit, jobs, "dudao/testkit", clock, settings)


def _mark_overdue(world: World, fact: type[ThingDue], ids: list[UUID]) -> ScheduledJob:
    thing = world.thing

    @scheduled(every=EVERY, name=f"mark-{fact.event_type}")
    async def mark_overdue(uow: UnitOfWork, now: datetime) -> int:
        rows = (
            await uow.session.execute(
                select(thing.c.id, thing.c.due_at)
                .where(thing.c.id.in_(ids), thing.c.due_at <= now, thing.c.notified_at.is_(None))
                .order_by(thing.c.due_at)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await uow.session.execute(
                update(thing).where(thing.c.id.in_([r.id for r in rows])).values(notified_at=now)
            )
        for r in rows:
            uow.emit(fact(thing_id=r.id, due_at=r.due_at, division=DIVISION))
        return len(rows)

    return mark_overdue


def _remind(world: World, fact: type[ThingDue], ids: list[UUID]) -> ScheduledJob:
    """A job that changes no row: only the derived event id keeps its facts from doubling."""
    thing = world.thing

    @scheduled(every=EVERY, name=f"remind-{fact.event_type}")
    async def remind(uow: UnitOfWork, now: datetime) -> int:
        rows = (
            await uow.session.execute(
                select(thing.c.id, thing.c.due_at).where(thing.c.id.in_(ids), thing.c.due_at <= now)
            )
        ).all()
        for r in rows:
            uow.emit(fact(thing_id=r.id, due_at=r.due_at, division=DIVISION))
        return len(rows)

    return remind


async def _add_things(
    world: World, count: int, *, due_at: datetime, ids: list[UUID] | None = None
) -> list[UUID]:
    ids = ids or [uuid7() for _ in range(count)]
    async with world.engine.begin() as conn:
        await conn.execute(insert(world.thing), [{"id": i, "due_at": due_at} for i in ids])
    return ids


async def _facts(world: World, fact: type[ThingDue]) -> list[UUID]:
    return sorted(UUID(r["envelope"]["data"]["thing_id"]) for r in await world.outbox_rows(fact.event_type))


async def _count(world: World, fact: type[ThingDue], expected: int) -> bool:
    return len(await world.outbox_rows(fact.event_type)) >= expected


async def _more_than(items: list[datetime], count: int) -> bool:
    return len(items) > count
