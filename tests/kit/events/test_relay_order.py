"""One relay at a time publishes an outbox: a record's events reach the stream once, in commit order,
with any number of relays, and a hung or dead listening connection never stalls publishing."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from functools import partial
from uuid import UUID

from sqlalchemy import insert, text, update

from dudao.events.relay import OutboxRelay
from dudao.ids import uuid7
from tests.kit.events.support import (
    DIVISION,
    World,
    counted_class,
    eventually,
    happened_class,
    header,
    read_subject,
    running,
    subject_count,
    tcp_proxy,
)

POLL = 0.3
# A shared 2-core machine: what must happen within one poll gets this much more.
MARGIN = 1.0


async def test_two_relays_under_load_put_each_records_events_on_the_stream_once_in_commit_order(
    world: World,
) -> None:
    counted = counted_class(world.subject("load"))
    things = [uuid7() for _ in range(4)]
    async with world.engine.begin() as conn:
        await conn.execute(insert(world.thing), [{"id": t} for t in things])
    settings = world.settings(outbox_batch_size=10, outbox_poll_seconds=POLL)
    writers, commits = 6, 50

    async def write(seed: int) -> None:
        choose = random.Random(seed).choice
        for _ in range(commits):
            thing_id = choose(things)
            async with world.sessions() as session:
                uow = world.uow(session)
                # The row lock serialises the writers of one thing: its outbox rows follow commit order.
                n = (
                    await session.execute(
                        update(world.thing)
                        .where(world.thing.c.id == thing_id)
                        .values(n=world.thing.c.n + 1)
                        .returning(world.thing.c.n)
                    )
                ).scalar_one()
                uow.emit(counted(thing_id=thing_id, n=n, division=DIVISION))
                await uow.commit()

    relays = [OutboxRelay(world.engine, world.kit, world.js, settings) for _ in range(2)]
    async with running(relays[0]), running(relays[1]):
        load = asyncio.gather(*(write(seed) for seed in range(writers)))
        for _ in range(2):  # the relays' connections die under load, and a relay takes over each time
            await asyncio.sleep(0.25)
            await _end_relay_connections(world)
        await load
        await eventually(
            lambda: _all_published(world, counted.event_type, writers * commits),
            within=30.0,
            what="every row published",
        )

    messages = await read_subject(world.js, counted.event_type)
    ids = [header(m, "Nats-Msg-Id") for m in messages]
    assert len(ids) == len(set(ids)) == writers * commits
    order: dict[UUID, list[int]] = defaultdict(list)
    for message in messages:
        data = json.loads(message.data)["data"]
        order[UUID(data["thing_id"])].append(data["n"])
    assert sorted(order) == sorted(things)
    for numbers in order.values():
        assert numbers == list(range(1, len(numbers) + 1))


async def test_a_relay_standing_by_takes_over_within_a_poll_when_the_publishing_one_stops(
    world: World,
) -> None:
    happened = happened_class(world.subject("takeover"))
    settings = world.settings(outbox_poll_seconds=POLL)
    first_stop = asyncio.Event()
    first = asyncio.create_task(OutboxRelay(world.engine, world.kit, world.js, settings).run(first_stop))
    try:
        await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
        await eventually(lambda: _on_stream(world, happened.event_type, 1), what="the first relay publishes")
        async with running(OutboxRelay(world.engine, world.kit, world.js, settings)):
            await asyncio.sleep(2 * POLL)  # the second relay has tried the lock and stands by
            first_stop.set()
            await asyncio.wait_for(first, 15.0)
            await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
            took = await eventually(lambda: _on_stream(world, happened.event_type, 2), within=5.0)
    finally:
        first_stop.set()
        await asyncio.wait_for(first, 15.0)
    assert took < POLL + MARGIN


async def test_publishing_goes_on_every_poll_while_the_listening_connection_hangs(world: World) -> None:
    happened = happened_class(world.subject("hung"))
    url = world.engine.url
    assert url.host is not None
    assert url.port is not None
    async with tcp_proxy(url.host, url.port) as proxy:
        relay = OutboxRelay(
            world.engine,
            world.kit,
            world.js,
            world.settings(outbox_poll_seconds=POLL),
            listener_dsn=proxy.url(url),
        )
        async with running(relay):
            await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
            await eventually(lambda: _on_stream(world, happened.event_type, 1), what="the relay publishes")
            proxy.freeze()  # the backend no longer answers the relay, and nothing closes
            # Beyond the liveness check's timeout and a reconnect's, which run beside the publishing.
            for count in range(2, 6):
                await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
                took = await eventually(partial(_on_stream, world, happened.event_type, count), within=5.0)
                assert took < POLL + MARGIN, f"event {count} took {took:.2f} s"
                await asyncio.sleep(3.0)
            proxy.thaw()  # the hung connection's backend ends; the relay goes on from a new connection
            await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
            await eventually(lambda: _on_stream(world, happened.event_type, 6), within=5.0)


async def test_publishing_resumes_within_a_poll_when_the_publishing_relays_connection_dies(
    world: World,
) -> None:
    happened = happened_class(world.subject("dies"))
    async with running(
        OutboxRelay(world.engine, world.kit, world.js, world.settings(outbox_poll_seconds=POLL))
    ):
        await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
        await eventually(lambda: _on_stream(world, happened.event_type, 1), what="the relay publishes")
        assert await _end_relay_connections(world) == 1
        await world.commit_events(happened(thing_id=uuid7(), division=DIVISION))
        took = await eventually(lambda: _on_stream(world, happened.event_type, 2), within=5.0)
    assert took < POLL + MARGIN


async def _end_relay_connections(world: World) -> int:
    """End the backends of every relay's dedicated connection to this outbox, as a crash would."""
    async with world.engine.connect() as conn:
        ended = await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
            ).bindparams(name=f"dudao-relay-{world.kit.schema}")
        )
        return len(ended.all())


async def _all_published(world: World, event_type: str, expected: int) -> bool:
    rows = await world.outbox_rows(event_type)
    return len(rows) == expected and all(r["published_at"] is not None for r in rows)


async def _on_stream(world: World, subject: str, expected: int) -> bool:
    return await subject_count(world.js, subject) >= expected
