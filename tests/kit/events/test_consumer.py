"""Durable consumers: an event takes effect once, failures retry with backoff, poison is dead-lettered."""

from __future__ import annotations

import json
import secrets
from uuid import UUID

from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from sqlalchemy import insert, select, update

from dudao.events.consumer import Consumer, ConsumerRunner, consumer
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM
from dudao.events.relay import OutboxRelay, publish_envelope
from dudao.ids import uuid7
from dudao.uow import Actor, UnitOfWork
from tests.kit.events.support import DIVISION, Happened, World, eventually, happened_class, running

FAST_RETRIES = {
    "consumer_max_deliver": 3,
    "consumer_backoff_seconds": [0.1, 0.1],
    "consumer_ack_wait_seconds": 5.0,
}


async def test_redelivered_event_is_applied_once(world: World) -> None:
    happened = happened_class(world.subject("redeliver"))
    followed = happened_class(world.subject("redeliver", "followed"))
    thing_id = await _new_thing(world)
    calls: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("apply-once"))
    async def count_it(event: Happened, uow: UnitOfWork) -> None:
        calls.append(event.thing_id)
        await uow.session.execute(
            update(world.thing).where(world.thing.c.id == event.thing_id).values(n=world.thing.c.n + 1)
        )
        uow.emit(followed(thing_id=event.thing_id, division=event.division))

    async with world.sessions() as session:
        uow = UnitOfWork(
            session,
            world.kit,
            world.source,
            world.clock,
            Actor(id="inspector-1", kind="person", request_id="req-redeliver"),
        )
        envelope = uow.emit(happened(thing_id=thing_id, division=DIVISION))
        await uow.commit()
    await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch()
    # The same event twice more, as a replay or a relay that outlived the duplicate window would send it.
    for attempt in range(2):
        await publish_envelope(
            world.js,
            happened.event_type,
            envelope.model_dump(mode="json"),
            msg_id=f"{envelope.id}:again:{attempt}",
        )

    async with running(_runner(world, [count_it])):
        await eventually(lambda: _settled(world, count_it, delivered=3), what="three deliveries acked")

    assert calls == [thing_id]
    assert await _n(world, thing_id) == 1
    follow_ups = await world.outbox_rows(followed.event_type)
    assert len(follow_ups) == 1
    assert follow_ups[0]["envelope"]["correlationid"] == "req-redeliver"
    assert await world.count(world.kit.inbox, world.kit.inbox.c.consumer == count_it.durable) == 1


async def test_failed_handler_is_rolled_back_and_retried_with_backoff(world: World) -> None:
    happened = happened_class(world.subject("flaky"))
    followed = happened_class(world.subject("flaky", "followed"))
    thing_id = await _new_thing(world)
    calls: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("flaky"))
    async def fail_twice(event: Happened, uow: UnitOfWork) -> None:
        calls.append(event.thing_id)
        await uow.session.execute(
            update(world.thing).where(world.thing.c.id == event.thing_id).values(n=world.thing.c.n + 1)
        )
        uow.emit(followed(thing_id=event.thing_id, division=event.division))
        if len(calls) < 3:
            raise RuntimeError("the database of the moon is away")

    await _publish(world, happened(thing_id=thing_id, division=DIVISION))
    async with running(_runner(world, [fail_twice], consumer_max_deliver=5)):
        await eventually(lambda: _settled(world, fail_twice, delivered=3), what="the third delivery acked")

    assert calls == [thing_id] * 3
    assert await _n(world, thing_id) == 1
    assert len(await world.outbox_rows(followed.event_type)) == 1
    assert not await _dead_letters(world, fail_twice, 1)


async def test_poison_event_is_dead_lettered_after_max_deliver(world: World) -> None:
    happened = happened_class(world.subject("poison"))
    calls: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("poison"))
    async def always_fail(event: Happened, uow: UnitOfWork) -> None:
        calls.append(event.thing_id)
        raise RuntimeError("this event cannot be handled")

    event = happened(thing_id=uuid7(), division=DIVISION)
    [envelope] = await _publish(world, event)
    garbage = b"{this is not a cloud event"
    await world.js.publish(happened.event_type, garbage, headers={"Nats-Msg-Id": secrets.token_hex(8)})

    dead_letter = world.kit.dead_letter
    async with running(_runner(world, [always_fail])):
        await eventually(lambda: _dead_letters(world, always_fail, 2), what="two dead letters")
        await eventually(lambda: _settled(world, always_fail, delivered=4), what="both messages terminated")

    assert calls == [event.thing_id] * 3
    query = select(dead_letter).where(dead_letter.c.consumer == always_fail.durable)
    async with world.engine.connect() as conn:
        by_event = {row["event_id"]: row for row in (await conn.execute(query)).mappings()}
    poisoned = by_event[UUID(envelope.id)]
    assert poisoned["deliveries"] == 3
    assert poisoned["subject"] == happened.event_type
    assert "this event cannot be handled" in poisoned["error"]
    assert json.loads(poisoned["payload"])["data"]["thing_id"] == str(event.thing_id)
    unreadable = by_event[None]
    assert unreadable["deliveries"] == 1
    assert bytes(unreadable["payload"]) == garbage
    assert await world.count(world.kit.inbox, world.kit.inbox.c.consumer == always_fail.durable) == 0


async def test_two_runner_replicas_share_one_durable_consumer(world: World) -> None:
    happened = happened_class(world.subject("replicas"))
    thing_ids = [await _new_thing(world) for _ in range(40)]
    calls: list[UUID] = []

    @consumer(happened.event_type, durable=world.durable("replicas"))
    async def count_it(event: Happened, uow: UnitOfWork) -> None:
        calls.append(event.thing_id)
        await uow.session.execute(
            update(world.thing).where(world.thing.c.id == event.thing_id).values(n=world.thing.c.n + 1)
        )

    await _publish(world, *(happened(thing_id=t, division=DIVISION) for t in thing_ids))
    async with running(_runner(world, [count_it])), running(_runner(world, [count_it])):
        await eventually(lambda: _settled(world, count_it, delivered=40), what="forty deliveries acked")

    assert sorted(calls) == sorted(thing_ids)
    assert [await _n(world, t) for t in thing_ids] == [1] * 40


async def test_settings_reach_an_existing_durable(world: World) -> None:
    happened = happened_class(world.subject("settings"))

    @consumer(happened.event_type, durable=world.durable("settings"))
    async def ignore(event: Happened, uow: UnitOfWork) -> None:
        return None

    for max_deliver in (3, 4):
        async with running(_runner(world, [ignore], consumer_max_deliver=max_deliver)):
            pass
        info: ConsumerInfo = await world.js.consumer_info(STREAM, ignore.durable)
        assert info.config.max_deliver == max_deliver
        assert info.config.filter_subject == happened.event_type
        assert info.config.ack_wait == FAST_RETRIES["consumer_ack_wait_seconds"]


def _runner(world: World, consumers: list[Consumer], **overrides: object) -> ConsumerRunner:
    settings = world.settings(**{**FAST_RETRIES, **overrides})
    return ConsumerRunner(
        world.sessions, world.kit, world.js, consumers, "dudao/testkit", world.clock, settings
    )


async def _publish(world: World, *events: Happened) -> list[CloudEvent]:
    envelopes = await world.commit_events(*events)
    await OutboxRelay(world.engine, world.kit, world.js, world.settings()).publish_batch()
    return envelopes


async def _new_thing(world: World) -> UUID:
    thing_id = uuid7()
    async with world.engine.begin() as conn:
        await conn.execute(insert(world.thing).values(id=thing_id))
    return thing_id


async def _n(world: World, thing_id: UUID) -> int:
    async with world.engine.connect() as conn:
        return int(
            (await conn.execute(select(world.thing.c.n).where(world.thing.c.id == thing_id))).scalar_one()
        )


async def _settled(world: World, c: Consumer, *, delivered: int) -> bool:
    try:
        info: ConsumerInfo = await world.js.consumer_info(STREAM, c.durable)
    except NotFoundError:  # the runner has not created it yet
        return False
    assert info.delivered is not None
    return info.delivered.consumer_seq >= delivered and info.num_pending == 0 and info.num_ack_pending == 0


async def _dead_letters(world: World, c: Consumer, expected: int) -> bool:
    return await world.count(world.kit.dead_letter, world.kit.dead_letter.c.consumer == c.durable) >= expected
