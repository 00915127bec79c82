"""Dead letters: an operator lists them, retries one for its consumer alone, or discards it, audited."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any
from uuid import UUID

from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from dudao.common.models import common_kit
from dudao.db import asyncpg_url
from dudao.events import dead_letters
from dudao.events.consumer import Consumer, ConsumerRunner, consumer
from dudao.events.nats import STREAM
from dudao.events.relay import OutboxRelay
from dudao.ids import uuid7
from dudao.tables import KitTables
from dudao.uow import UnitOfWork
from tests.kit.events.support import (
    DIVISION,
    Happened,
    World,
    eventually,
    happened_class,
    read_subject,
    running,
)

FAST = {"consumer_max_deliver": 2, "consumer_backoff_seconds": [0.05], "consumer_ack_wait_seconds": 5.0}


def _runner(world: World, consumers: list[Consumer]) -> ConsumerRunner:
    settings = world.settings(**FAST)
    return ConsumerRunner(world.sessions, world.kit, world.js, consumers, world.source, world.clock, settings)


async def _settled(world: World, c: Consumer, *, delivered: int) -> bool:
    try:
        info: ConsumerInfo = await world.js.consumer_info(STREAM, c.durable)
    except NotFoundError:
        return False
    assert info.delivered is not None
    return info.delivered.consumer_seq >= delivered and info.num_pending == 0 and info.num_ack_pending == 0


async def _audit(world: World, action: str) -> list[dict[str, Any]]:
    log = world.kit.audit_log
    async with world.engine.connect() as conn:
        rows = await conn.execute(
            select(log.c.record_id, log.c.actor, log.c.details).where(log.c.action == action)
        )
        return [dict(r) for r in rows.mappings()]


async def test_a_dead_letter_is_listed_retried_and_then_handled_by_its_consumer_alone(world: World) -> None:
    happened = happened_class(world.subject("retried"))
    broken = True
    handled: list[UUID] = []
    seen_by_other: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("retry-flaky"))
    async def flaky(event: Happened, uow: UnitOfWork) -> None:
        if broken:
            raise RuntimeError("the registry is away")
        handled.append(event.thing_id)

    @consumer(happened.event_type, durable=world.durable("retry-other"))
    async def other(event: Happened, uow: UnitOfWork) -> None:
        seen_by_other.append(event.thing_id)

    event = happened(thing_id=uuid7(), division=DIVISION)
    [envelope] = await world.commit_events(event)
    await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch()

    async with running(_runner(world, [flaky, other])):
        await eventually(lambda: _settled(world, flaky, delivered=2), what="the event dead-lettered")
        async with world.engine.connect() as conn:
            [letter] = await dead_letters.list_letters(conn, world.kit, consumer=flaky.durable)
        assert (letter.event_id, letter.subject, letter.deliveries) == (
            UUID(envelope.id),
            happened.event_type,
            2,
        )
        assert letter.summary == "RuntimeError: the registry is away"

        broken = False
        async with world.sessions() as session:
            uow = world.uow(session)
            retried, failure = await dead_letters.retry(uow, world.js, [letter.id])
            await uow.commit()
        assert failure is None
        assert [r.id for r in retried] == [letter.id]

        await eventually(lambda: _settled(world, flaky, delivered=3), what="the retry handled")
        await eventually(lambda: _settled(world, other, delivered=2), what="the retry passed by the other")

    assert handled == [event.thing_id]
    assert seen_by_other == [event.thing_id]  # it had applied the event; the retry was not its
    assert await world.count(world.kit.dead_letter, world.kit.dead_letter.c.consumer == flaky.durable) == 0
    [entry] = [a for a in await _audit(world, "dead-letter.retried") if a["record_id"] == str(letter.id)]
    assert entry["details"] == {
        "consumer": flaky.durable,
        "event_id": envelope.id,
        "subject": happened.event_type,
        "deliveries": 2,
        "failed_at": letter.failed_at.isoformat(),
        "error": "RuntimeError: the registry is away",
    }


async def test_a_retry_that_fails_again_is_a_new_dead_letter(world: World) -> None:
    happened = happened_class(world.subject("again"))

    @consumer(happened.event_type, durable=world.durable("retry-hopeless"))
    async def hopeless(event: Happened, uow: UnitOfWork) -> None:
        raise RuntimeError("still broken")

    await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
    await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch()
    async with running(_runner(world, [hopeless])):
        await eventually(lambda: _settled(world, hopeless, delivered=2), what="dead-lettered")
        async with world.engine.connect() as conn:
            [first] = await dead_letters.list_letters(conn, world.kit, consumer=hopeless.durable)
        async with world.sessions() as session:
            uow = world.uow(session)
            await dead_letters.retry(uow, world.js, [first.id])
            await uow.commit()
        await eventually(lambda: _settled(world, hopeless, delivered=4), what="dead-lettered again")

    async with world.engine.connect() as conn:
        [second] = await dead_letters.list_letters(conn, world.kit, consumer=hopeless.durable)
    assert second.id != first.id
    assert (second.event_id, second.deliveries) == (first.event_id, 2)


async def _letter(kit: KitTables, engine_url: str, subject: str, payload: bytes) -> int:
    engine = create_async_engine(asyncpg_url(engine_url))
    try:
        async with engine.begin() as conn:
            return int(
                (
                    await conn.execute(
                        insert(kit.dead_letter)
                        .values(
                            consumer="cli-test",
                            event_id=uuid7(),
                            subject=subject,
                            payload=payload,
                            error="Traceback (most recent call last):\n  ...\nValueError: no such school",
                            deliveries=5,
                        )
                        .returning(kit.dead_letter.c.id)
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


async def test_discard_removes_a_dead_letter_and_audits_it(world: World) -> None:
    async with world.engine.begin() as conn:
        letter_id = (
            await conn.execute(
                insert(world.kit.dead_letter)
                .values(
                    consumer="discarded",
                    subject=world.subject("discarded"),
                    payload=b"{not json",
                    error="unreadable",
                    deliveries=1,
                )
                .returning(world.kit.dead_letter.c.id)
            )
        ).scalar_one()
    async with world.sessions() as session:
        uow = world.uow(session)
        discarded = await dead_letters.discard(uow, [letter_id, letter_id + 10_000])
        await uow.commit()

    assert [d.id for d in discarded] == [letter_id]
    assert await world.count(world.kit.dead_letter, world.kit.dead_letter.c.id == letter_id) == 0
    [entry] = [a for a in await _audit(world, "dead-letter.discarded") if a["record_id"] == str(letter_id)]
    assert entry["details"]["consumer"] == "discarded"


def _dudao(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dudao.cli", "events", "dead-letters", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DUDAO_DATABASE_URL": database_url},
        timeout=60,
        check=False,
    )


async def test_the_cli_lists_retries_and_discards_dead_letters(world: World, own_database: str) -> None:
    letters_db = own_database  # a database of its own: the list is this test's letters alone
    subject = world.subject("cli")
    body = b'{"id":"x","type":"t","source":"/dudao/x","specversion":"1.0","data":{}}'
    kept = await _letter(common_kit, letters_db, subject, body)
    gone = await _letter(common_kit, letters_db, subject, b"{}")

    listed = await asyncio.to_thread(_dudao, letters_db, "list", "--schema", "common")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:6] == [str(kept), "common", "cli-test", subject, "5", "attempts"]
    assert lines[0].endswith("ValueError: no such school")

    discarded = await asyncio.to_thread(
        _dudao, letters_db, "discard", "--schema", "common", str(gone), "999999"
    )
    assert discarded.returncode == 0, discarded.stderr
    assert f"discarded {gone}" in discarded.stdout
    assert "no dead letter 999999" in discarded.stderr

    retried = await asyncio.to_thread(_dudao, letters_db, "retry", "--schema", "common", str(kept))
    assert retried.returncode == 0, retried.stderr
    [message] = await read_subject(world.js, subject)
    assert message.data == body
    assert message.headers is not None
    assert message.headers[dead_letters.RETRY_HEADER] == "cli-test"
    assert message.headers["Nats-Msg-Id"] == f"dead-letter:common:{kept}"
    assert message.headers["Ce-Source"] == "/dudao/x"

    empty = await asyncio.to_thread(_dudao, letters_db, "list", "--schema", "common")
    assert empty.stdout.strip() == "no dead letters"
