"""The outbox relay: what commits is published once, what rolls back never, and replays reach the stream."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import insert

from dudao.events.relay import REPLAY_HEADER, OutboxRelay, publish_envelope, replay
from dudao.ids import uuid7
from tests.kit.events.support import (
    DIVISION,
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


async def test_two_relays_over_one_outbox_publish_each_event_once(world: World) -> None:
    happened = happened_class(world.subject("concurrent"))
    for _ in range(4):
        await world.commit_events(*(happened(thing_id=uuid7(), division=DIVISION) for _ in range(50)))
    settings = world.settings(outbox_batch_size=15)
    relays = [OutboxRelay(world.engine, world.kit, world.js, settings) for _ in range(2)]
    published = [0, 0]
    while True:
        counts = await asyncio.gather(*(r.publish_batch() for r in relays))
        published = [p + c for p, c in zip(published, counts, strict=True)]
        if not any(counts):
            break

    assert sum(published) == 200
    assert all(published), "both relays took a share"
    assert await subject_count(world.js, happened.event_type) == 200
    ids = [header(m, "Nats-Msg-Id") for m in await read_subject(world.js, happened.event_type)]
    assert sorted(ids) == sorted(str(r["event_id"]) for r in await world.outbox_rows(happened.event_type))


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
