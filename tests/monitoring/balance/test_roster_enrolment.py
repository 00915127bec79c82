"""School-inspection's version 2 school events carry enrolment and teaching points; the roster projects
them, and a version 1 event leaves them as they are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.inspection import SchoolRegistered, SchoolRegisteredV2, SchoolUpdated, SchoolUpdatedV2
from dudao.db import session_factory
from dudao.events.consumer import ConsumerRunner
from dudao.events.nats import connect
from monitoring.db import kit
from monitoring.main import spec
from school_inspection.db import kit as inspection_kit
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.kit.events.support import eventually, running
from tests.monitoring.test_roster import _own_consumers, _publish, _roster

COUNTY = "450924"  # 兴业县


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url is not None
    nc = await connect(settings.nats_url, "tests-balance-roster")
    yield nc.jetstream()
    await nc.close()


async def test_enrolment_and_teaching_points_reach_the_roster(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    engine: AsyncEngine,
    js: JetStreamContext,
    monitoring_engine: AsyncEngine,
    settings: Settings,
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    created = await inspection.post(
        "/v1/schools",
        headers=office,
        json={
            "school_code": random_school_code(),
            "name": "兴业县某村教学点",
            "school_type": "primary",
            "ownership": "public",
            "division_code": COUNTY,
            "address": "兴业县",
            "enrolment": 36,
            "teaching_point": True,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["teaching_point"] is True
    async with engine.connect() as conn:
        outbox = inspection_kit.outbox
        envelope = (
            await conn.execute(select(outbox.c.envelope).order_by(outbox.c.seq.desc()).limit(1))
        ).scalar_one()
    assert envelope["type"] == SchoolRegisteredV2.event_type
    registered = SchoolRegisteredV2.model_validate(envelope["data"])
    assert (registered.enrolment, registered.teaching_point) == (36, True)
    assert registered.enrolment_by_stage is not None
    assert registered.enrolment_by_stage["primary"] == 36

    # A school of the version 1 days (registered and renamed), then updated in version 2: in whatever order
    # the durables apply them, the newest version holds, with the enrolment only version 2 carries.
    old = {
        k: v
        for k, v in registered.model_dump().items()
        if k not in ("enrolment", "enrolment_by_stage", "teaching_point")
    }
    v1_registered = SchoolRegistered(**old)
    v1_renamed = SchoolUpdated(**{**old, "name": "兴业县某村教学点（改名）"}, version=2)
    v2_grown = SchoolUpdatedV2(
        **{**registered.model_dump(), "enrolment": 60, "enrolment_by_stage": {"primary": 60}}, version=3
    )
    published = [await _publish(js, e) for e in (v1_registered, v1_renamed, v2_grown)]
    sessions = session_factory(monitoring_engine)
    consumers = _own_consumers()
    runner = ConsumerRunner(sessions, kit, js, consumers, spec.event_source, Clock(), settings)

    async def settled() -> bool:
        async with sessions() as session:
            applied = select(func.count()).where(
                kit.inbox.c.consumer.in_([c.durable for c in consumers]), kit.inbox.c.event_id.in_(published)
            )
            return await session.scalar(applied) == 3

    async with running(runner):
        await eventually(settled, what="the three events applied")
    [row] = (await _roster(monitoring_engine, [registered.school_id])).values()
    assert (row.name, row.source_version) == ("兴业县某村教学点", 3)
    assert (row.enrolment, row.pupils_primary, row.pupils_junior, row.teaching_point) == (60, 60, 0, True)
