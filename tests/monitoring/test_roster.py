"""Monitoring's roster projects school-inspection's school events from the real stream, set-wise."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.js import JetStreamContext
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.inspection import SchoolRegistered, SchoolUpdated
from dudao.db import create_engine, session_factory
from dudao.events.catalog import Event
from dudao.events.consumer import Consumer, ConsumerRunner
from dudao.events.envelope import CloudEvent
from dudao.events.nats import connect
from dudao.events.relay import publish_envelope
from dudao.ids import uuid7
from monitoring.db import kit
from monitoring.main import spec
from monitoring.roster.models import RosterSchool
from tests.kit.events.support import eventually, running

COUNTY = "450102"


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url is not None
    nc = await connect(settings.nats_url, "tests-roster")
    yield nc.jetstream()
    await nc.close()


@pytest.fixture
async def monitoring_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, application_name="tests-roster", schema=kit.schema)
    yield engine
    await engine.dispose()


def _own_consumers() -> list[Consumer]:
    """The roster's consumers under durables of this test's own, so no other test's events reach them."""
    token = secrets.token_hex(4)
    roster = [c for c in spec.consumers if c.durable.startswith("monitoring-roster-")]
    return [Consumer(c.event_type, f"{token}-{c.durable}", handle_many=c.handle_many) for c in roster]


async def _publish(js: JetStreamContext, event: Event) -> str:
    envelope = CloudEvent(
        id=str(uuid7()),
        source="/dudao/school-inspection",
        type=event.event_type,
        subject=event.subject(),
        time=Clock().now(),
        data=event.model_dump(mode="json"),
        division=event.division,
    )
    await publish_envelope(js, event.event_type, envelope.model_dump(mode="json"), msg_id=envelope.id)
    return envelope.id


def _school(**changes: Any) -> dict[str, Any]:
    return {
        "division": COUNTY,
        "school_id": str(uuid7()),
        "school_code": "".join(secrets.choice("0123456789") for _ in range(10)),
        "name": "南宁市兴宁区测试小学",
        "school_type": "primary",
        "ownership": "public",
        **changes,
    }


async def _roster(engine: AsyncEngine, ids: list[str]) -> dict[str, RosterSchool]:
    async with session_factory(engine)() as session:
        stmt = select(RosterSchool).where(RosterSchool.school_id.in_(ids))
        return {str(r.school_id): r for r in (await session.execute(stmt)).scalars()}


async def test_registered_schools_join_the_roster_a_batch_per_statement(
    js: JetStreamContext, monitoring_engine: AsyncEngine, settings: Settings
) -> None:
    schools = [_school() for _ in range(200)]
    for school in schools:
        await _publish(js, SchoolRegistered(**school))
    roster_writes: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "roster_school" in statement and statement.lstrip().startswith(("INSERT", "WITH")):
            roster_writes.append(statement)

    event.listen(monitoring_engine.sync_engine, "before_cursor_execute", count)
    sessions = session_factory(monitoring_engine)
    consumers = _own_consumers()
    durables = [c.durable for c in consumers]
    runner = ConsumerRunner(sessions, kit, js, consumers, spec.event_source, Clock(), settings)
    ids = [s["school_id"] for s in schools]

    async def projected() -> bool:
        return len(await _roster(monitoring_engine, ids)) == len(ids)

    async with running(runner):
        await eventually(projected, what="200 schools on the roster")
    event.remove(monitoring_engine.sync_engine, "before_cursor_execute", count)

    roster = await _roster(monitoring_engine, ids)
    assert {(r.school_code, r.division_code, r.source_version) for r in roster.values()} == {
        (s["school_code"], COUNTY, 1) for s in schools
    }
    # One statement per fetched batch (up to 256 events), not per event. The durable is new, so it also
    # applies whatever earlier tests published: count what it applied.
    async with sessions() as session:
        inbox = kit.inbox
        applied = await session.scalar(select(func.count()).where(inbox.c.consumer.in_(durables)))
    assert applied is not None
    assert applied >= len(schools)
    assert 1 <= len(roster_writes) <= applied / 20


async def test_an_older_update_never_overwrites_a_newer_one(
    js: JetStreamContext, monitoring_engine: AsyncEngine, settings: Settings
) -> None:
    school = _school()
    published = [
        await _publish(js, SchoolRegistered(**school)),
        await _publish(js, SchoolUpdated(**{**school, "name": "第三版"}, version=3)),
        await _publish(js, SchoolUpdated(**{**school, "name": "第二版（迟到）"}, version=2)),
    ]
    sessions = session_factory(monitoring_engine)
    consumers = _own_consumers()
    runner = ConsumerRunner(sessions, kit, js, consumers, spec.event_source, Clock(), settings)
    inbox = kit.inbox

    async def settled() -> bool:
        async with sessions() as session:
            applied = select(func.count()).where(
                inbox.c.consumer.in_([c.durable for c in consumers]), inbox.c.event_id.in_(published)
            )
            return await session.scalar(applied) == 3

    async with running(runner):
        await eventually(settled, what="all three events applied")

    [row] = (await _roster(monitoring_engine, [school["school_id"]])).values()
    assert (row.name, row.source_version) == ("第三版", 3)
