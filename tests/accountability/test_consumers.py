"""Accountability's consumers on the real stream: every origin and kind, once per fact."""

from __future__ import annotations

import re

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.main import spec
from dudao.config import Settings
from dudao.contracts.governance import (
    DutyEvaluationConcluded,
    DutyEvaluationRoundPublished,
    EmergencyReportOverdue,
    FilingMissing,
    SupervisionOfficeRecorded,
)
from dudao.contracts.inspection import SchoolVisitsBehind
from dudao.contracts.rectification import ORIGINS
from dudao.ids import uuid7
from tests.accountability.conftest import (
    Rectification,
    School,
    case_of,
    consume,
    notices,
    own,
    publish,
    steps_of,
    steps_on,
)

KINDS = ("opened", "due_soon", "overdue", "rejected", "accepted", "closed", "reopened")


def test_one_durable_consumer_per_origin_and_kind() -> None:
    expected = {f"dudao.{origin}.rectification.{kind}.v1" for origin in ORIGINS for kind in KINDS}
    expected.add(SchoolVisitsBehind.event_type)
    # Governance's facts, and its office records (the abbreviations of the document numbers).
    expected |= {
        DutyEvaluationConcluded.event_type,
        DutyEvaluationRoundPublished.event_type,
        FilingMissing.event_type,
        EmergencyReportOverdue.event_type,
        SupervisionOfficeRecorded.event_type,
    }
    assert {c.event_type for c in spec.consumers} == expected
    durables = [c.durable for c in spec.consumers]
    assert len(set(durables)) == len(durables) == len(expected)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", d) for d in durables)


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
