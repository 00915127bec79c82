"""The escalation loop: rectification facts climb the ladder, once each, until the rectification is done."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.escalation.models import CaseFact, EscalationStep
from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from dudao.contracts.rectification import EscalationClosed, EscalationStepTaken
from dudao.db import session_factory
from dudao.events.consumer import Unverifiable
from tests.accountability.conftest import (
    COUNTY_A,
    REGION,
    Desk,
    Rectification,
    case_of,
    escalated,
    outbox,
    person,
    steps_of,
)

STEP_TAKEN = EscalationStepTaken.event_type


async def facts_of(engine: AsyncEngine, case_id: object) -> list[tuple[str, str]]:
    async with session_factory(engine)() as session:
        stmt = select(CaseFact).where(CaseFact.case_id == case_id).order_by(CaseFact.id)
        return [(f.kind, f.outcome.value) for f in (await session.execute(stmt)).scalars()]


async def test_overdue_facts_climb_the_default_ladder_until_a_person_decides(
    desk: Desk, engine: AsyncEngine, accountability: httpx.AsyncClient, settings: Settings
) -> None:
    rect = Rectification(office=REGION)  # the region's office raised it: its documents read 桂教督…
    today = desk.clock.today()
    year = today.year
    await desk.deliver(rect.event("opened"))

    emitted = await desk.deliver(rect.event("overdue"))
    case = await case_of(engine, rect)
    assert case is not None
    assert case.status.value == "open"
    assert case.ladder_version == 1
    (urging,) = await steps_of(engine, case.id)
    assert (urging.index, urging.kind.value, urging.reason.value) == (0, "urging_order", "overdue")
    assert urging.new_deadline == today + timedelta(days=15)
    assert re.fullmatch(rf"桂教督办〔{year}〕\d+号", urging.document.number or "")
    assert urging.trigger_event_id == rect.event("overdue").event_id()
    assert "抄送：兴宁区教育局" in urging.document.body
    [step_event] = [e for e in emitted if e.type == STEP_TAKEN]
    assert step_event.data == {
        "division": COUNTY_A,
        "case_id": str(case.id),
        "step_id": str(urging.id),
        "origin": "school-inspection",
        "rectification_id": rect.id,
        "step_index": 0,
        "step_kind": "urging_order",
        "reason": "overdue",
        "document_number": urging.document.number,
        "new_deadline": str(today + timedelta(days=15)),
    }
    assert len(await outbox(engine, STEP_TAKEN, rectification_id=rect.id)) == 1

    # The originating service moved the deadline; the next overdue fact carries the new one.
    rect.deadline = urging.new_deadline
    await desk.deliver(rect.event("overdue"))
    rect.deadline = today + timedelta(days=10)
    await desk.deliver(rect.event("overdue"))
    rect.deadline = today + timedelta(days=20)
    await desk.deliver(rect.event("overdue"))
    _, interview, circular, decision = await steps_of(engine, case.id)
    assert [s.kind.value for s in (interview, circular, decision)] == [
        "interview",
        "circular",
        "accountability_decision",
    ]
    assert re.fullmatch(rf"桂教督谈〔{year}〕\d+号", interview.document.number or "")
    assert re.fullmatch(rf"桂教督通〔{year}〕\d+号", circular.document.number or "")
    assert interview.new_deadline == circular.new_deadline == today + timedelta(days=10)
    assert decision.document.number is None
    assert decision.new_deadline is None
    events = await outbox(engine, STEP_TAKEN, rectification_id=rect.id)
    assert [(e["data"]["step_index"], e["data"]["step_kind"]) for e in events] == [
        (0, "urging_order"),
        (1, "interview"),
        (2, "circular"),
        (3, "accountability_decision"),
    ]
    assert events[-1]["data"]["document_number"] is None

    # The ladder is exhausted: a further overdue fact is recorded on the case but takes no step.
    rect.deadline = today + timedelta(days=30)
    await desk.deliver(rect.event("overdue"))
    assert len(await steps_of(engine, case.id)) == 4
    assert (await facts_of(engine, case.id))[-1] == ("overdue", "ladder_exhausted")

    # A person takes the decision, in one of the forms of RULES.md §5, and it is numbered then.
    office = person(settings, "supervision_office", division=REGION)
    decided = await accountability.post(
        f"/v1/documents/{decision.document_id}/decision",
        json={
            "target": "person",
            "form": "transfer_to_organs",
            "persons": [{"name": "张三", "position": "校长"}],
            "reasons": "经督办、约谈、通报仍拒不整改，涉嫌违法。",
        },
        headers=office,
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert re.fullmatch(rf"桂教督责〔{year}〕\d+号", body["number"])
    assert body["decision"]["status"] == "decided"
    assert body["decision"]["form"] == "transfer_to_organs"
    assert "移送监察机关或司法机关" in body["body"]

    # Close-out (销号) closes the case, once.
    closing = await desk.deliver(rect.event("accepted"))
    assert [e.type for e in closing] == [EscalationClosed.event_type]
    await desk.deliver(rect.event("closed"))
    closed = await case_of(engine, rect)
    assert closed is not None
    assert closed.status.value == "closed"
    assert closed.closed_at is not None
    assert len(await outbox(engine, EscalationClosed.event_type, rectification_id=rect.id)) == 1


async def test_the_same_overdue_fact_escalates_once(desk: Desk, engine: AsyncEngine) -> None:
    rect = Rectification()
    await desk.open(rect)
    first = rect.event("overdue")
    await desk.deliver(first)
    await desk.deliver(first)  # redelivered
    again = rect.event("overdue")  # noticed again by another scheduler: a new object, the same fact
    assert again.event_id() == first.event_id()
    await desk.deliver(again)

    case = await case_of(engine, rect)
    assert case is not None
    [step] = await steps_of(engine, case.id)
    assert step.trigger_event_id == first.event_id()
    assert len(await outbox(engine, STEP_TAKEN, rectification_id=rect.id)) == 1

    # The data itself refuses a second step for the same triggering fact.
    other = Rectification()
    other_case = await escalated(desk, engine, other)
    async with session_factory(engine)() as session:
        with pytest.raises(IntegrityError, match="uq_escalation_step_trigger_event_id"):
            await session.execute(
                update(EscalationStep)
                .where(EscalationStep.case_id == other_case.id)
                .values(trigger_event_id=first.event_id())
            )


async def test_a_rejected_report_takes_the_next_step(desk: Desk, engine: AsyncEngine) -> None:
    rect = Rectification()
    await desk.deliver(rect.event("opened"))
    rejection = rect.event("rejected")
    await desk.deliver(rejection)
    await desk.deliver(rejection)
    case = await case_of(engine, rect)
    assert case is not None
    [step] = await steps_of(engine, case.id)
    assert (step.kind.value, step.reason.value) == ("urging_order", "rejected")
    assert "整改佐证材料不全" in step.document.body


async def test_a_fact_that_overtakes_its_opening_is_obeyed_only_after_it(
    desk: Desk, engine: AsyncEngine
) -> None:
    rect = Rectification()
    # On its own durable, the overdue fact can come first: it is not obeyed, and the runner retries it.
    with pytest.raises(Unverifiable, match="never opened"):
        await desk.deliver(rect.event("overdue"))
    assert await case_of(engine, rect) is None
    await desk.deliver(rect.event("opened"))
    await desk.deliver(rect.event("overdue"))  # retried
    case = await case_of(engine, rect)
    assert case is not None
    assert case.requirement == "完善校园安全管理制度"
    assert len(await steps_of(engine, case.id)) == 1
    assert await facts_of(engine, case.id) == [("opened", "noted"), ("overdue", "step_taken")]


async def test_a_stale_overdue_fact_after_close_out_takes_no_step(desk: Desk, engine: AsyncEngine) -> None:
    rect = Rectification()
    await desk.deliver(rect.event("opened"))
    await desk.deliver(rect.event("accepted"))
    emitted = await desk.deliver(rect.event("overdue"))
    case = await case_of(engine, rect)
    assert case is not None
    assert case.status.value == "closed"
    assert emitted == []
    assert await steps_of(engine, case.id) == []
    assert (await facts_of(engine, case.id))[-1] == ("overdue", "noted")


async def test_a_reopened_rectification_continues_up_the_ladder(desk: Desk, engine: AsyncEngine) -> None:
    rect = Rectification()
    await desk.open(rect)
    await desk.deliver(rect.event("overdue"))
    await desk.deliver(rect.event("accepted"))
    await desk.deliver(rect.event("reopened"))
    rect.deadline = desk.clock.today()
    case = await escalated(desk, engine, rect)
    assert case.status.value == "open"
    assert case.closed_at is None
    assert [s.kind.value for s in await steps_of(engine, case.id)] == ["urging_order", "interview"]


async def test_an_interview_involves_discipline_inspection_and_the_organisation_department(
    desk: Desk, engine: AsyncEngine
) -> None:
    rect = Rectification()
    await desk.open(rect)
    await desk.deliver(rect.event("overdue"))
    rect.deadline = desk.clock.today()
    case = await escalated(desk, engine, rect)
    interview = (await steps_of(engine, case.id))[1].document
    async with session_factory(engine)() as session:
        from accountability.documents.models import Interview

        details = await session.get(Interview, interview.id)
    assert details is not None
    expected = datetime.combine(desk.clock.today() + timedelta(days=7), time(9), BUSINESS_TZ)
    assert details.scheduled_at == expected
    assert details.place == "兴宁区人民政府教育督导委员会办公室"
    assert "兴宁区纪委监委" in details.participants
    assert "中共兴宁区委员会组织部" in details.participants
    assert "南宁市兴宁区测试小学主要负责人" in details.participants
    assert details.filed_with == ["中共兴宁区委员会", "兴宁区人民政府", "兴宁区教育局"]
    assert details.record is None
