"""The outbox relay: what commits is published once, what rolls back never, and replays reach the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import delete, insert

from dudao.events.relay import REPLAY_HEADER, OutboxRelay, publish_envelope, replay
from dudao.ids import uuid7
from tests.kit.events.support import (
    DIVISION,
    Happened,
    World,
    eventually,
    happened_class,
    header,
    read_subject,
    running,
    subject_count,
)


async def test_event_of_a_rolled_back_transaction_is_never_published(world: World) -> None:
    happened = happened_class(world.subject("rollback"))
    relay = OutboxRelay(world.engine, world.kit, world.js, world.settings(outbox_poll_seconds=0.1))
    lost, kept = happened(thing_id=uuid7(), division=DIVISION), happened(thing_id=uuid7(), division=DIVISION)
    async with running(relay):
        async with world.sessions() as session:
            uow = world.uow(session)
            await session.execute(insert(world.thing).values(id=lost.thing_id))
            uow.emit(lost)
            await uow.flush()  # the outbox row exists, uncommitted, while the relay polls
            await asyncio.sleep(0.3)
            await uow.rollback()
        await world.commit_events(kept)
        await eventually(lambda: _published(world, happened.event_type, 1), what="the kept event published")

    messages = await read_subject(world.js, happened.event_type)
    assert [json.loads(m.data)["data"]["thing_id"] for m in messages] == [str(kept.thing_id)]
    assert [r["envelope"]["data"]["thing_id"] for r in await world.outbox_rows(happened.event_type)] == [
        str(kept.thing_id)
    ]
    assert await world.count(world.thing, world.thing.c.id == lost.thing_id) == 0


async def test_events_committed_while_no_relay_runs_are_published_once_it_starts(world: World) -> None:
    happened = happened_class(world.subject("crash"))
    first, second = (
        happened(thing_id=uuid7(), division=DIVISION),
        happened(thing_id=uuid7(), division=DIVISION),
    )
    await world.commit_events(first, second)
    rows = await world.outbox_rows(happened.event_type)
    assert [r["published_at"] for r in rows] == [None, None]
    # The relay that crashed had even published the first one before it could mark it.
    await publish_envelope(
        world.js, happened.event_type, rows[0]["envelope"], msg_id=str(rows[0]["event_id"])
    )

    async with running(OutboxRelay(world.engine, world.kit, world.js, world.settings())):
        await eventually(lambda: _published(world, happened.event_type, 2), what="both rows marked published")

    messages = await read_subject(world.js, happened.event_type)
    assert [header(m, "Ce-Id") for m in messages] == [str(r["event_id"]) for r in rows]
    assert [json.loads(m.data) for m in messages] == [r["envelope"] for r in rows]


async def test_relay_wakes_on_notify_long_before_its_poll(world: World) -> None:
    happened = happened_class(world.subject("notify"))
    relay = OutboxRelay(world.engine, world.kit, world.js, world.settings(outbox_poll_seconds=30.0))
    async with running(relay):
        await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
        await eventually(lambda: _on_stream(world, happened.event_type, 1), within=5.0)
        await asyncio.sleep(0.3)  # the relay is now asleep on LISTEN, with 30 s of poll to go

        await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
        took = await eventually(lambda: _on_stream(world, happened.event_type, 2), within=5.0)
    assert took < 2.0


async def test_relays_publishing_one_outbox_together_publish_each_event_once_in_outbox_order(
    world: World,
) -> None:
    happened = happened_class(world.subject("concurrent"))
    for _ in range(4):
        await world.commit_events(*(happened(thing_id=uuid7(), division=DIVISION) for _ in range(50)))
    settings = world.settings(outbox_batch_size=15)
    relays = [OutboxRelay(world.engine, world.kit, world.js, settings) for _ in range(2)]
    published = 0
    while True:
        counts = await asyncio.gather(*(r.publish_batch() for r in relays))
        published += sum(counts)
        if not any(counts):
            break

    assert published == 200
    assert await subject_count(world.js, happened.event_type) == 200
    ids = [header(m, "Nats-Msg-Id") for m in await read_subject(world.js, happened.event_type)]
    assert ids == [str(r["event_id"]) for r in await world.outbox_rows(happened.event_type)]


async def test_relay_publishes_each_event_on_the_subject_its_class_names(world: World) -> None:
    base = world.subject("routed")

    class Routed(Happened):
        event_type: ClassVar[str] = base
        to: str

        @classmethod
        def stream_subject(cls, data: Mapping[str, Any]) -> str:
            return f"{cls.event_type}.{data['to']}"

    await world.commit_events(Routed(thing_id=uuid7(), to="governance", division=DIVISION))
    assert await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch() == 1
    assert await replay(world.engine, world.kit, world.js, types=[base]) == 1

    messages = await read_subject(world.js, f"{base}.governance")
    assert len(messages) == 2
    assert [header(m, "Ce-Type") for m in messages] == [base, base]
    assert await subject_count(world.js, base) == 0


async def test_failed_publish_is_recorded_on_its_row_and_no_later_row_is_marked_before_it(
    world: World,
) -> None:
    base = world.subject("failing")

    class Failing(Happened):
        event_type: ClassVar[str] = base
        routable: bool

        @classmethod
        def stream_subject(cls, data: Mapping[str, Any]) -> str:
            # No stream captures this subject: the publish gets no ack.
            return cls.event_type if data["routable"] else f"nostream.{world.token}"

    first, stuck, later = (
        Failing(thing_id=uuid7(), routable=routable, division=DIVISION) for routable in (True, False, True)
    )
    await world.commit_events(first, stuck, later)
    relay = OutboxRelay(world.engine, world.kit, world.js, world.settings())
    try:
        assert await relay.publish_batch() == 1
        assert await relay.publish_batch() == 0
        rows = await world.outbox_rows(base)
    finally:  # the stuck row would hold up this module's other tests
        async with world.engine.begin() as conn:
            await conn.execute(delete(world.kit.outbox).where(world.kit.outbox.c.type == base))

    assert [r["published_at"] is not None for r in rows] == [True, False, False]
    assert [r["attempts"] for r in rows] == [1, 2, 0]
    assert "NoStreamResponseError" in rows[1]["last_error"]
    # What was sent after the failure went again with the same Nats-Msg-Id, and the stream kept one copy.
    ids = [header(m, "Nats-Msg-Id") for m in await read_subject(world.js, base)]
    assert ids == [str(rows[0]["event_id"]), str(rows[2]["event_id"])]


async def test_replay_republishes_published_events(world: World) -> None:
    happened = happened_class(world.subject("replay"))
    await world.commit_events(*(happened(thing_id=uuid7(), division=DIVISION) for _ in range(3)))
    await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch()
    rows = await world.outbox_rows(happened.event_type)

    assert await replay(world.engine, world.kit, world.js, types=["dudao.nothing.here.at.v1"]) == 0
    count = await replay(
        world.engine, world.kit, world.js, since_seq=rows[1]["seq"], types=[happened.event_type]
    )

    assert count == 2
    messages = await read_subject(world.js, happened.event_type)
    assert len(messages) == 5
    replayed = messages[3:]
    assert [json.loads(m.data) for m in replayed] == [r["envelope"] for r in rows[1:]]
    for message, row in zip(replayed, rows[1:], strict=True):
        assert header(message, "Nats-Msg-Id").startswith(f"{row['event_id']}:replay:")
        assert header(message, REPLAY_HEADER)


async def _published(world: World, event_type: str, expected: int) -> bool:
    rows = await world.outbox_rows(event_type)
    return len(rows) == expected and all(r["published_at"] is not None for r in rows)


async def _on_stream(world: World, subject: str, expected: int) -> bool:
    return await subject_count(world.js, subject) >= expected
