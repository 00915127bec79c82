"""The escalation rules: which ladder applies, which step a fact takes, when a case closes.

No SQL and no commit: the unit of work commits the case, its step, the document, the notifications,
the outbox and the audit entries together, so a fact either escalates completely or not at all.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import cast
from uuid import UUID

from accountability.documents import service as documents
from accountability.documents import texts
from accountability.documents.models import DocumentKind
from accountability.documents.service import Addressee, DivisionOutsideJurisdiction, InterviewPlan
from accountability.escalation import repository
from accountability.escalation.models import (
    CaseStatus,
    EscalationCase,
    EscalationLadder,
    EscalationStep,
    FactOutcome,
    StepReason,
)
from accountability.escalation.schemas import LadderCreate, LadderStep, ManualStepCreate
from accountability.notifications import service as notifications
from dudao.auth.principal import Principal, Role
from dudao.contracts.inspection import SchoolVisitsBehind
from dudao.contracts.rectification import (
    EscalationClosed,
    EscalationStepTaken,
    Origin,
    RectificationDueSoon,
    RectificationEvent,
    RectificationOpened,
    RectificationOverdue,
    RectificationRejected,
)
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.ids import uuid7
from dudao.uow import UnitOfWork


class CaseNotFound(NotFound):
    type = "case-not-found"
    title = "No such escalation case"


class CaseClosed(Conflict):
    type = "case-closed"
    title = "The escalation case is closed"


class NoLadder(Conflict):
    type = "no-ladder"
    title = "No active escalation ladder applies"


class LadderOutsideJurisdiction(Forbidden):
    type = "ladder-outside-jurisdiction"
    title = "You may version only the ladders of your own jurisdiction"


# ---- ladders


async def create_ladder(uow: UnitOfWork, who: Principal, body: LadderCreate) -> EscalationLadder:
    """A new version of a scope's ladder; it applies to cases opened from now on."""
    prefix = body.division_prefix
    if Role.PLATFORM_ADMIN not in who.roles and (prefix is None or not who.can_see(prefix)):
        raise LadderOutsideJurisdiction(
            "Only platform administrators version the default ladder or another jurisdiction's"
        )
    latest = await repository.latest_in_scope(uow.session, body.finding_category, prefix)
    ladder = await repository.add_ladder(
        uow.session,
        EscalationLadder(
            version=latest.version + 1 if latest else 1,
            finding_category=body.finding_category,
            division_prefix=prefix,
            steps=[step.model_dump(mode="json") for step in body.steps],
            created_at=uow.clock.now(),
            created_by=who.sub,
            active=True,
        ),
    )
    uow.record(
        "ladder.versioned",
        "escalation_ladder",
        ladder.id,
        prefix,
        version=ladder.version,
        finding_category=body.finding_category,
    )
    return ladder


async def ladder_page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    category: str | None,
    active: bool | None,
) -> list[EscalationLadder]:
    return await repository.ladder_page(
        uow.session, who, after=after, limit=limit + 1, category=category, active=active
    )


# ---- rectification facts


def _kind(event: RectificationEvent) -> str:
    return event.event_type.split(".")[3]  # dudao.<origin>.rectification.<kind>.v1


def _matter(case: EscalationCase) -> str:
    requirement = f"，整改要求：{case.requirement}" if case.requirement else ""
    return f"“{case.category}”类问题（{case.severity}）{requirement}"


def _addressee(case: EscalationCase, grounds: str) -> Addressee:
    return Addressee(
        unit_id=case.unit_id,
        unit_kind=case.unit_kind,
        unit_name=case.unit_name,
        competent_department=case.competent_department,
        division_code=case.division_code,
        case_id=case.id,
        grounds=grounds,
    )


async def _case_for(uow: UnitOfWork, event: RectificationEvent) -> EscalationCase:
    """The rectification's case, locked; opened with the ladder that applies now if it has none yet.

    Facts may arrive in any order, so whichever comes first opens the case.
    """
    case = await repository.lock_case(uow.session, event.origin, event.rectification_id)
    if case is not None:
        return case
    ladder = await repository.resolve_ladder(uow.session, event.category, event.division)
    if ladder is None:
        raise NoLadder(f"No ladder for category {event.category} in {event.division}")
    case_id = uuid7()
    inserted = await repository.ensure_case(
        uow.session,
        {
            "id": case_id,
            "origin": event.origin,
            "rectification_id": event.rectification_id,
            "finding_id": event.finding_id,
            "category": event.category,
            "severity": event.severity,
            "unit_id": event.unit_id,
            "unit_kind": event.unit_kind,
            "unit_name": event.unit_name,
            "competent_department": event.competent_department,
            "office_division": event.office_division,
            "division_code": event.division,
            "ladder_id": ladder.id,
            "ladder_version": ladder.version,
            "status": CaseStatus.OPEN,
            "opened_at": uow.clock.now(),
        },
    )
    if inserted:
        uow.record("case.opened", "escalation_case", case_id, event.division, ladder_version=ladder.version)
    case = await repository.lock_case(uow.session, event.origin, event.rectification_id)
    assert case is not None, "inserted, or inserted by a concurrent twin that has committed"
    return case


async def _note(
    uow: UnitOfWork, case: EscalationCase, event: RectificationEvent, fact_id: UUID, outcome: FactOutcome
) -> bool:
    """Record the fact on the case; False if it was recorded before (a redelivery: do nothing more)."""
    return await repository.note_fact(
        uow.session,
        {
            "case_id": case.id,
            "fact_id": fact_id,
            "kind": _kind(event),
            "deadline": event.deadline,
            "outcome": outcome,
            "occurred_at": uow.clock.now(),
        },
    )


async def opened(uow: UnitOfWork, event: RectificationOpened, fact_id: UUID) -> None:
    case = await _case_for(uow, event)
    if await _note(uow, case, event, fact_id, FactOutcome.NOTED) and case.requirement is None:
        case.requirement = event.requirement


async def due_soon(uow: UnitOfWork, event: RectificationDueSoon, fact_id: UUID) -> None:
    """A reminder to the unit and its competent department; no step."""
    case = await _case_for(uow, event)
    if not await _note(uow, case, event, fact_id, FactOutcome.NOTED) or case.status is CaseStatus.CLOSED:
        return
    await notifications.notify(
        uow,
        case,
        f"整改期限临近：还有{event.days_before}天",
        f"{case.unit_name}：{_matter(case)}的整改期限为{texts.day(event.deadline)}，"
        "请按时完成整改并报送整改报告。",
        case_id=case.id,
        step_id=None,
    )


def _next_step(case: EscalationCase) -> LadderStep | None:
    steps = case.ladder.steps
    if case.ladder_position >= len(steps):
        return None
    return LadderStep.model_validate(steps[case.ladder_position])


async def escalate(
    uow: UnitOfWork, event: RectificationOverdue | RectificationRejected, fact_id: UUID
) -> None:
    """The next step of the case's ladder; once the ladder is exhausted the fact is only recorded."""
    case = await _case_for(uow, event)
    step = _next_step(case)
    if case.status is CaseStatus.CLOSED:
        outcome = FactOutcome.NOTED  # a stale fact, delivered after the rectification was accepted
    else:
        outcome = FactOutcome.LADDER_EXHAUSTED if step is None else FactOutcome.STEP_TAKEN
    if not await _note(uow, case, event, fact_id, outcome) or case.status is CaseStatus.CLOSED:
        return
    if isinstance(event, RectificationRejected):
        reason = StepReason.REJECTED
        grounds = f"你单位{_matter(case)}的整改情况未通过验收（{event.reasons}）"
    else:
        reason = StepReason.OVERDUE
        grounds = f"你单位{_matter(case)}未在规定期限（{texts.day(event.deadline)}）内完成整改"
        await notifications.notify(
            uow,
            case,
            "整改逾期",
            f"{case.unit_name}：{_matter(case)}的整改期限{texts.day(event.deadline)}已过，尚未通过验收。",
            case_id=case.id,
            step_id=None,
        )
    if step is None:
        return
    await _take_step(
        uow,
        case,
        _addressee(case, grounds),
        case.office_division,
        step.kind,
        reason,
        step.new_deadline_days,
        trigger=fact_id,
        plan=InterviewPlan(),
    )
    case.ladder_position += 1  # after the step, which counts it first (step_count >= ladder_position)


async def _transition(
    uow: UnitOfWork, event: RectificationEvent, fact_id: UUID, to: CaseStatus, outcome: FactOutcome
) -> EscalationCase | None:
    """Move the case to status ``to`` once; the case if this fact moved it, else None."""
    case = await _case_for(uow, event)
    moves = case.status is not to
    if not await _note(uow, case, event, fact_id, outcome if moves else FactOutcome.NOTED) or not moves:
        return None
    case.status, case.closed_at = to, uow.clock.now() if to is CaseStatus.CLOSED else None
    uow.record(f"case.{outcome.value}", "escalation_case", case.id, case.division_code, by=_kind(event))
    return case


async def close(uow: UnitOfWork, event: RectificationEvent, fact_id: UUID) -> None:
    """An accepted or closed rectification closes its case, once."""
    case = await _transition(uow, event, fact_id, CaseStatus.CLOSED, FactOutcome.CLOSED)
    if case is not None:
        uow.emit(
            EscalationClosed(
                division=case.division_code,
                case_id=str(case.id),
                origin=cast(Origin, case.origin),
                rectification_id=case.rectification_id,
            )
        )


async def reopen(uow: UnitOfWork, event: RectificationEvent, fact_id: UUID) -> None:
    """A recheck reopened the rectification: its case goes on up the ladder from where it stopped."""
    await _transition(uow, event, fact_id, CaseStatus.OPEN, FactOutcome.REOPENED)


# ---- steps


async def _take_step(
    uow: UnitOfWork,
    case: EscalationCase | None,
    to: Addressee,
    office_division: str,
    kind: DocumentKind,
    reason: StepReason,
    new_deadline_days: int | None,
    *,
    trigger: UUID | None,
    plan: InterviewPlan,
    grounds: str | None = None,
) -> EscalationStep:
    """Issue the step's document, tell the unit and its department, and tell the originating service."""
    new_deadline = uow.clock.today() + timedelta(days=new_deadline_days) if new_deadline_days else None
    document = await documents.issue(uow, kind, to, office_division, new_deadline, plan)
    index = 0
    if case is not None:
        index = case.step_count
        case.step_count += 1
    step = await repository.add_step(
        uow.session,
        EscalationStep(
            case_id=case.id if case else None,
            index=index,
            kind=kind,
            reason=reason,
            trigger_event_id=trigger,
            new_deadline=new_deadline,
            document=document,
            division_code=to.division_code,
            grounds=grounds,
            created_at=uow.clock.now(),
            created_by=uow.actor.id,
        ),
    )
    name = texts.KIND_NAMES[kind]
    title = f"{name}：{document.number}" if document.number else f"{name}（待作出）"
    await notifications.notify(
        uow,
        to,
        title,
        document.body,
        case_id=step.case_id,
        step_id=step.id,
        department_id=to.competent_department_id,
    )
    uow.record(
        "escalation.step_taken",
        "escalation_step",
        step.id,
        step.division_code,
        kind=kind.value,
        reason=reason.value,
        number=document.number,
    )
    uow.emit(
        EscalationStepTaken(
            division=step.division_code,
            # A step ordered without a rectification stands as its own case.
            case_id=str(case.id if case else step.id),
            step_id=str(step.id),
            origin=cast(Origin, case.origin) if case else None,
            rectification_id=case.rectification_id if case else None,
            step_index=index,
            step_kind=kind.value,
            reason=reason.value,
            document_number=document.number,
            new_deadline=new_deadline,
        )
    )
    return step


async def order_step(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: ManualStepCreate
) -> EscalationStep:
    """A step ordered by an office: on a case, or against a unit without a rectification (e.g. an
    interview for refusing supervision, 拒不接受督导). The ordering office issues the document."""
    case: EscalationCase | None = None
    if body.unit is not None:
        unit = body.unit
        divisions.require(unit.division_code)
        if not who.can_see(unit.division_code):
            raise DivisionOutsideJurisdiction(f"{unit.division_code} is outside your jurisdiction")
        to = Addressee(
            unit_id=unit.id,
            unit_kind=unit.kind,
            unit_name=unit.name,
            competent_department=unit.competent_department,
            division_code=unit.division_code,
            case_id=None,
            grounds=body.grounds,
        )
    else:
        assert body.case_id is not None, "the schema takes exactly one of unit and case_id"
        case = await _visible_case(uow, who, body.case_id, for_update=True)
        if case.status is CaseStatus.CLOSED:
            raise CaseClosed(f"Case {case.id} was closed on {case.closed_at}")
        to = _addressee(case, body.grounds)
    return await _take_step(
        uow,
        case,
        to,
        who.division,
        body.kind,
        StepReason.MANUAL,
        body.new_deadline_days,
        trigger=None,
        plan=InterviewPlan(scheduled_at=body.scheduled_at, place=body.place),
        grounds=body.grounds,
    )


# ---- schools behind on routine visits (经常性督导)

# Calendar days an urging order on visits behind gives the county office, as the default ladder's first step.
VISITS_BEHIND_DEADLINE_DAYS = 15


def _visits_behind(event: SchoolVisitsBehind) -> str:
    """What the county office is told: the school, the semester, the visits required and done."""
    school = f"{event.school_name}（学校标识码{event.school_code}）"
    start, end = texts.day(event.semester_start), texts.day(event.semester_end)
    semester = f"{texts.semester(event.semester)}（{start}至{end}）"
    if event.checkpoint == "midpoint":
        return (
            f"你单位所辖{school}{semester}应开展经常性督导不少于{event.required}次，"
            f"学期过半（截至{texts.day(event.checkpoint_date - timedelta(days=1))}）仅开展{event.visits}次，"
            "不足规定次数的一半"
        )
    return (
        f"你单位所辖{school}{semester}应开展经常性督导不少于{event.required}次，"
        f"学期结束时实际开展{event.visits}次，未达到每学期经常性督导次数的规定"
    )


async def visits_behind(uow: UnitOfWork, event: SchoolVisitsBehind, fact_id: UUID) -> None:
    """A school fell behind on routine visits: the supervision office of its county answers for it.

    Routine visits are the duty of the county office and its responsible inspectors (RULES.md §2–§3). At
    the semester's midpoint the office is told; at its end the office above it, which supervises it,
    issues an urging order to it, copied to itself, with a new deadline. Each fact acts once, whatever
    its deliveries and event ids: it is recorded under an id derived from what it is about.
    """
    county = event.division
    noted = await repository.note_visits_behind(
        uow.session,
        {
            "id": uuid7(),
            "fact_id": fact_id,
            "school_id": event.school_id,
            "school_code": event.school_code,
            "school_name": event.school_name,
            "semester": event.semester,
            "checkpoint": event.checkpoint,
            "checkpoint_date": event.checkpoint_date,
            "visits": event.visits,
            "required": event.required,
            "division_code": county,
            "occurred_at": uow.clock.now(),
        },
    )
    if noted is None:
        return  # heard before
    uow.record(
        "visits_behind.noted",
        "visits_behind_fact",
        noted,
        county,
        school_id=event.school_id,
        semester=event.semester,
        checkpoint=event.checkpoint,
        visits=event.visits,
        required=event.required,
    )
    office = Addressee(
        unit_id=texts.office_id(county),
        unit_kind=texts.SUPERVISION_OFFICE,
        unit_name=await documents.office_name(uow, county),
        competent_department=None,
        division_code=county,
        case_id=None,
        grounds=_visits_behind(event),
    )
    if event.checkpoint == "midpoint":
        await notifications.notify(
            uow,
            office,
            "经常性督导进度滞后",
            f"{office.unit_name}：\n{office.grounds}。请督促责任督学在学期结束（{texts.day(event.semester_end)}）前"
            "完成经常性督导；届时仍未完成的，上级教育督导机构将发出督办单。",
            case_id=None,
            step_id=None,
        )
        return
    above = await documents.superior(uow, county)
    if above is not None:
        office = replace(
            office,
            competent_department=await documents.office_name(uow, above),
            competent_department_id=texts.office_id(above),
        )
    await _take_step(
        uow,
        None,
        office,
        above or county,  # the office above issues it; at the top, the office itself
        DocumentKind.URGING_ORDER,
        StepReason.VISITS_BEHIND,
        VISITS_BEHIND_DEADLINE_DAYS,
        trigger=fact_id,
        plan=InterviewPlan(),
        grounds=office.grounds,
    )


# ---- reads


async def _visible_case(
    uow: UnitOfWork, who: Principal, case_id: UUID, *, for_update: bool = False, detail: bool = False
) -> EscalationCase:
    case = await repository.get_visible_case(uow.session, who, case_id, for_update=for_update, detail=detail)
    if case is None:
        raise CaseNotFound(f"Case {case_id} does not exist")
    return case


async def get_case(uow: UnitOfWork, who: Principal, case_id: UUID) -> EscalationCase:
    """The case with its steps, facts and documents; 404 outside the principal's jurisdiction."""
    return await _visible_case(uow, who, case_id, detail=True)


async def case_page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    status: CaseStatus | None,
    rectification_id: str | None,
    unit_id: str | None,
) -> list[EscalationCase]:
    return await repository.case_page(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        status=status,
        rectification_id=rectification_id,
        unit_id=unit_id,
    )
