"""Accountability's consumers on the real stream: every origin and kind, once per fact."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.db import kit
from accountability.main import spec
from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.inspection import SchoolVisitsBehind
from dudao.contracts.rectification import ORIGINS
from dudao.db import session_factory
from dudao.events.catalog import Event
from dudao.events.consumer import Consumer, ConsumerRunner
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM, connect
from dudao.events.relay import publish_envelope
from dudao.ids import uuid7
from tests.accountability.conftest import Rectification, School, case_of, notices, steps_of, steps_on
from tests.kit.events.support import eventually, running

KINDS = ("opened", "due_soon", "overdue", "rejected", "accepted", "closed", "reopened")


def test_one_durable_consumer_per_origin_and_kind() -> None:
    expected = {f"dudao.{origin}.rectification.{kind}.v1" for origin in ORIGINS for kind in KINDS}
    expected.add(SchoolVisitsBehind.event_type)
    assert {c.event_type for c in spec.consumers} == expected
    assert spec.consumers[-1].durable == "accountability-inspection-visits-behind"
    durables = [c.durable for c in spec.consumers]
    assert len(set(durables)) == len(durables) == len(expected)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", d) for d in durables)


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url
    nc = await connect(settings.nats_url, "tests-accountability")
    yield nc.jetstream()
    await nc.close()


async def publish(js: JetStreamContext, event: Event, event_id: UUID) -> None:
    envelope = CloudEvent(
        id=str(event_id),
        source=f"/dudao/{event.source_service()}",
        type=event.event_type,
        subject=event.subject(),
        time=Clock().now(),
        data=event.model_dump(mode="json"),
        division=event.division,
    )
    await publish_envelope(js, event.event_type, envelope.model_dump(mode="json"), msg_id=str(event_id))


async def consume(
    js: JetStreamContext, engine: AsyncEngine, settings: Settings, consumers: list[Consumer]
) -> None:
    """Run ``consumers`` until they have nothing left to do, then delete them."""
    runner = ConsumerRunner(session_factory(engine), kit, js, consumers, spec.event_source, Clock(), settings)
    try:
        async with running(runner):

            async def settled() -> bool:
                try:
                    infos = [await js.consumer_info(STREAM, c.durable) for c in consumers]
                except NotFoundError:  # the runner has not created them yet
                    return False
                return all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos)

            await eventually(settled, within=20.0, what="the consumers settled")
    finally:
        for c in consumers:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(STREAM, c.durable)


def own(*event_types: str) -> list[Consumer]:
    """Durables of this test's own, so that the service's durables keep their place on the stream."""
    token = secrets.token_hex(4)
    return [
        Consumer(c.event_type, f"{token}-{c.durable}", c.handler)
        for c in spec.consumers
        if c.event_type in event_types
    ]


async def test_a_governance_overdue_fact_published_twice_escalates_once(
    js: JetStreamContext, engine: AsyncEngine, settings: Settings
) -> None:
    consumers = own(*(f"dudao.governance.rectification.{kind}.v1" for kind in ("opened", "overdue")))
    rect = Rectification(origin="governance")
    overdue = rect.event("overdue")
    opened = rect.event("opened")
    await publish(js, opened, opened.event_id())
    await publish(js, overdue, overdue.event_id())
    # The same fact under another event id (a producer that did not derive it): the inbox cannot tell.
    await publish(js, overdue, uuid7())

    await consume(js, engine, settings, consumers)

    case = await case_of(engine, rect)
    assert case is not None
    assert case.origin == "governance"
    assert [s.kind.value for s in await steps_of(engine, case.id)] == ["urging_order"]


async def test_a_school_behind_published_twice_under_two_ids_is_urged_once(
    js: JetStreamContext, engine: AsyncEngine, settings: Settings
) -> None:
    school = School()
    end = school.behind("end")
    await publish(js, end, end.event_id())
    await publish(js, end, end.event_id())  # the stream itself drops this one (same Nats-Msg-Id)
    await publish(js, end, uuid7())  # the same fact under another id: the inbox cannot tell

    await consume(js, engine, settings, own(SchoolVisitsBehind.event_type))

    [step] = await steps_on(engine, end)
    assert (step.kind.value, step.reason.value) == ("urging_order", "visits_behind")
    assert len(await notices(engine, school)) == 2  # the county office and the city office, once each
