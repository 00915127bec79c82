"""The escalation rules: which ladder applies, which step a fact takes, when a case closes.

No SQL and no commit: the unit of work commits the cases, their steps, the documents, the notifications,
the outbox and the audit entries of a whole batch together, so a batch escalates completely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from accountability.documents import service as documents
from accountability.documents import texts
from accountability.documents.models import DocumentKind
from accountability.documents.service import Addressee, DivisionOutsideJurisdiction, InterviewPlan, Issue
from accountability.escalation import repository
from accountability.escalation.models import (
    CASES,
    STEPS,
    CaseStatus,
    EscalationCase,
    EscalationLadder,
    FactOutcome,
    StepReason,
)
from accountability.escalation.repository import Case, Ladder
from accountability.escalation.schemas import LadderCreate, LadderStep, ManualStepCreate
from accountability.notifications import service as notifications
from accountability.notifications.service import Notice
from dudao.auth.principal import Principal, Role
from dudao.clock import BUSINESS_TZ
from dudao.contracts.governance import DutyEvaluationConcluded, EmergencyReportOverdue
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
    StepKind,
)
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.events.catalog import Event
from dudao.events.consumer import Unverifiable
from dudao.ids import uuid7
from dudao.uow import UnitOfWork

E = TypeVar("E", bound=Event)


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
#
# Each function takes a batch of facts, each subject (rectification) at most once, and does its work
# set-wise: the batch's cases locked with one select (and the missing ones opened with one insert), its
# facts noted with one insert, its documents numbered with one statement, and every table it changes
# written with one write of the unit of work. The statements do not grow with the batch, only the rows.

Fact = tuple[E, UUID]  # an event, and the id of the fact it reports (derived from what it is about)


class CaseSubject(Protocol):
    """What opens and moves a case: a rectification event, or a duty evaluation seen as one."""

    @property
    def event_type(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def rectification_id(self) -> str: ...
    @property
    def finding_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def unit_id(self) -> str: ...
    @property
    def unit_kind(self) -> str: ...
    @property
    def unit_name(self) -> str: ...
    @property
    def competent_department(self) -> str | None: ...
    @property
    def office_division(self) -> str: ...
    @property
    def division(self) -> str: ...
    @property
    def deadline(self) -> date: ...


def _kind(event: CaseSubject) -> str:
    return event.event_type.split(".")[3]  # dudao.<origin>.rectification.<kind>.v1


def _key(event: CaseSubject) -> tuple[str, str]:
    return event.origin, event.rectification_id


def _matter(case: Case) -> str:
    requirement = f"，整改要求：{case.requirement}" if case.requirement else ""
    return f"“{case.category}”类问题（{case.severity}）{requirement}"


def _addressee(case: Case, grounds: str) -> Addressee:
    return Addressee(
        unit_id=case.unit_id,
        unit_kind=case.unit_kind,
        unit_name=case.unit_name,
        competent_department=case.competent_department,
        division_code=case.division_code,
        case_id=case.id,
        grounds=grounds,
    )


def _ladder_for(ladders: Sequence[Ladder], category: str, division_code: str) -> Ladder | None:
    """The most specific active ladder: category and prefix, then category, then the longest prefix, then
    the newest version."""
    applies = [
        ladder
        for ladder in ladders
        if ladder.finding_category in (None, category)
        and (ladder.division_prefix is None or division_code.startswith(ladder.division_prefix))
    ]
    return min(
        applies,
        key=lambda ladder: (
            ladder.finding_category is None,
            -len(ladder.division_prefix or ""),
            -ladder.version,
        ),
        default=None,
    )


async def _cases_for(uow: UnitOfWork, events: Sequence[CaseSubject]) -> dict[tuple[str, str], Case]:
    """The events' cases, locked; those missing opened with the ladder that applies now: for the facts
    that open a case (a rectification's opening, a failed duty evaluation), never for a later step.

    A concurrent twin opening the same case waits on its unique index, then finds it there, and the case
    is locked after it committed.
    """
    cases = {
        (c.origin, c.rectification_id): c
        for c in await repository.lock_cases(uow.session, [_key(e) for e in events])
    }
    missing = [e for e in events if _key(e) not in cases]
    if not missing:
        return cases
    ladders = await repository.active_ladders(uow.session)
    now = uow.clock.now()
    opening: list[tuple[Case, dict[str, Any]]] = []
    for e in missing:
        ladder = _ladder_for(ladders, e.category, e.division)
        if ladder is None:
            raise NoLadder(f"No ladder for category {e.category} in {e.division}")
        case = Case(
            id=uuid7(),
            origin=e.origin,
            rectification_id=e.rectification_id,
            category=e.category,
            severity=e.severity,
            requirement=None,
            unit_id=e.unit_id,
            unit_kind=e.unit_kind,
            unit_name=e.unit_name,
            competent_department=e.competent_department,
            office_division=e.office_division,
            division_code=e.division,
            ladder_version=ladder.version,
            ladder_position=0,
            step_count=0,
            status=CaseStatus.OPEN,
            closed_at=None,
            ladder_steps=ladder.steps,
        )
        row = {f: getattr(case, f) for f in _OPENED_COLUMNS}
        opening.append((case, row | {"finding_id": e.finding_id, "ladder_id": ladder.id, "opened_at": now}))
    inserted = await repository.open_cases(uow.session, [row for _, row in opening])
    for case, _ in opening:
        if case.id in inserted:
            cases[case.origin, case.rectification_id] = case
            uow.record(
                "case.opened",
                "escalation_case",
                case.id,
                case.division_code,
                ladder_version=case.ladder_version,
            )
    twins = [_key(e) for e in missing if _key(e) not in cases]
    for case in await repository.lock_cases(uow.session, twins):
        cases[case.origin, case.rectification_id] = case
    return cases


async def _known_cases(uow: UnitOfWork, events: Sequence[CaseSubject]) -> dict[tuple[str, str], Case]:
    """The events' cases, locked, each opened before by its origin's opening of the rectification.

    Only what accountability can check is obeyed: a later fact (due soon, overdue, rejected, accepted …)
    of a rectification it never saw opened, or about another unit than the opening named, is
    ``Unverifiable``. The opening may still be on its way, on its own durable: the consumer retries
    before it dead-letters the fact.
    """
    cases = {
        (c.origin, c.rectification_id): c
        for c in await repository.lock_cases(uow.session, [_key(e) for e in events])
    }
    for e in events:
        case = cases.get(_key(e))
        if case is None:
            raise Unverifiable(f"{e.origin} never opened rectification {e.rectification_id} here")
        if (case.unit_id, case.division_code) != (e.unit_id, e.division):
            raise Unverifiable(
                f"{_kind(e)} of rectification {e.rectification_id} names unit {e.unit_id} in {e.division};"
                f" it was opened for {case.unit_id} in {case.division_code}"
            )
    return cases


_OPENED_COLUMNS = (
    "id",
    "origin",
    "rectification_id",
    "category",
    "severity",
    "unit_id",
    "unit_kind",
    "unit_name",
    "competent_department",
    "office_division",
    "division_code",
    "ladder_version",
    "status",
)


async def _note(uow: UnitOfWork, facts: Sequence[tuple[Case, CaseSubject, UUID, FactOutcome]]) -> set[UUID]:
    """Record the facts on their cases; the ids of those not recorded before (the others are redeliveries
    of a fact under another event id: they do nothing more)."""
    now = uow.clock.now()
    rows = [
        {
            "case_id": case.id,
            "fact_id": fact_id,
            "kind": _kind(event),
            "deadline": event.deadline,
            "outcome": outcome,
            "occurred_at": now,
        }
        for case, event, fact_id, outcome in facts
    ]
    return await repository.note_facts(uow.session, rows)


def _write_cases(uow: UnitOfWork, cases: Iterable[Case]) -> None:
    """Hand over what the batch changed on its cases: one update for all of them."""
    uow.update(
        CASES,
        (
            {
                "id": c.id,
                "requirement": c.requirement,
                "ladder_position": c.ladder_position,
                "step_count": c.step_count,
                "status": c.status,
                "closed_at": c.closed_at,
            }
            for c in {c.id: c for c in cases}.values()
        ),
    )


async def opened(uow: UnitOfWork, facts: Sequence[Fact[RectificationOpened]]) -> None:
    """Rectifications were required: their cases open with the ladder that applies today."""
    cases = await _cases_for(uow, [e for e, _ in facts])
    new = await _note(uow, [(cases[_key(e)], e, f, FactOutcome.NOTED) for e, f in facts])
    changed = []
    for event, fact_id in facts:
        case = cases[_key(event)]
        if fact_id in new and case.requirement is None:
            case.requirement = event.requirement
            changed.append(case)
    _write_cases(uow, changed)


async def due_soon(uow: UnitOfWork, facts: Sequence[Fact[RectificationDueSoon]]) -> None:
    """Reminders to the units and their competent departments; no step."""
    cases = await _known_cases(uow, [e for e, _ in facts])
    new = await _note(uow, [(cases[_key(e)], e, f, FactOutcome.NOTED) for e, f in facts])
    notices = []
    for event, fact_id in facts:
        case = cases[_key(event)]
        if fact_id not in new or case.status is CaseStatus.CLOSED:
            continue
        notices.append(
            Notice(
                case,
                f"整改期限临近：还有{event.days_before}天",
                f"{case.unit_name}：{_matter(case)}的整改期限为{texts.day(event.deadline)}，"
                "请按时完成整改并报送整改报告。",
                case_id=case.id,
                step_id=None,
            )
        )
    notifications.notify_all(uow, notices)


def _next_step(case: Case) -> LadderStep | None:
    steps = case.ladder_steps
    if case.ladder_position >= len(steps):
        return None
    return LadderStep.model_validate(steps[case.ladder_position])


async def escalate(
    uow: UnitOfWork,
    divisions: DivisionTree,
    facts: Sequence[Fact[RectificationOverdue] | Fact[RectificationRejected]],
) -> None:
    """The next step of each case's ladder; once a ladder is exhausted the fact is only recorded."""
    cases = await _known_cases(uow, [e for e, _ in facts])
    planned: list[tuple[RectificationOverdue | RectificationRejected, UUID, Case, LadderStep | None]] = []
    for event, fact_id in facts:
        case = cases[_key(event)]
        planned.append((event, fact_id, case, _next_step(case)))

    def outcome(case: Case, step: LadderStep | None) -> FactOutcome:
        if case.status is CaseStatus.CLOSED:
            return FactOutcome.NOTED  # a stale fact, delivered after the rectification was accepted
        return FactOutcome.LADDER_EXHAUSTED if step is None else FactOutcome.STEP_TAKEN

    new = await _note(uow, [(case, e, f, outcome(case, step)) for e, f, case, step in planned])
    notices: list[Notice] = []
    orders: list[StepOrder] = []
    for event, fact_id, case, step in planned:
        if fact_id not in new or case.status is CaseStatus.CLOSED:
            continue
        if isinstance(event, RectificationRejected):
            reason = StepReason.REJECTED
            grounds = f"你单位{_matter(case)}的整改情况未通过验收（{event.reasons}）"
        else:
            reason = StepReason.OVERDUE
            grounds = f"你单位{_matter(case)}未在规定期限（{texts.day(event.deadline)}）内完成整改"
            notices.append(
                Notice(
                    case,
                    "整改逾期",
                    f"{case.unit_name}：{_matter(case)}的整改期限{texts.day(event.deadline)}已过，尚未通过验收。",
                    case_id=case.id,
                    step_id=None,
                )
            )
        if step is not None:
            orders.append(
                StepOrder(
                    case,
                    _addressee(case, grounds),
                    case.office_division,
                    step.kind,
                    reason,
                    step.new_deadline_days,
                    trigger=fact_id,
                )
            )
    await _take_steps(uow, divisions, orders, notices)
    for order in orders:
        assert order.case is not None
        order.case.ladder_position += (
            1  # after the step, which counts it first (step_count >= ladder_position)
        )
    notifications.notify_all(uow, notices)
    _write_cases(uow, (o.case for o in orders if o.case is not None))


async def _transition(
    uow: UnitOfWork, facts: Sequence[tuple[CaseSubject, UUID]], to: CaseStatus, outcome: FactOutcome
) -> list[Case]:
    """Move each case to status ``to`` once; the cases these facts moved."""
    cases = await _known_cases(uow, [e for e, _ in facts])
    moves = {f: cases[_key(e)].status is not to for e, f in facts}
    new = await _note(
        uow, [(cases[_key(e)], e, f, outcome if moves[f] else FactOutcome.NOTED) for e, f in facts]
    )
    now = uow.clock.now()
    moved = []
    for event, fact_id in facts:
        if fact_id not in new or not moves[fact_id]:
            continue
        case = cases[_key(event)]
        case.status, case.closed_at = to, now if to is CaseStatus.CLOSED else None
        uow.record(f"case.{outcome.value}", "escalation_case", case.id, case.division_code, by=_kind(event))
        moved.append(case)
    _write_cases(uow, moved)
    return moved


async def close(uow: UnitOfWork, facts: Sequence[Fact[RectificationEvent]]) -> None:
    """Accepted or closed rectifications close their cases, once."""
    for case in await _transition(uow, facts, CaseStatus.CLOSED, FactOutcome.CLOSED):
        uow.emit(
            EscalationClosed(
                division=case.division_code,
                case_id=str(case.id),
                origin=cast(Origin, case.origin),
                rectification_id=case.rectification_id,
            )
        )


async def reopen(uow: UnitOfWork, facts: Sequence[Fact[RectificationEvent]]) -> None:
    """A recheck reopened the rectification: its case goes on up the ladder from where it stopped."""
    await _transition(uow, facts, CaseStatus.OPEN, FactOutcome.REOPENED)


# ---- steps


@dataclass(frozen=True)
class StepOrder:
    """A step to take: on a case, or (``case`` None) standing as its own case."""

    case: Case | None
    to: Addressee
    office_division: str  # whose office issues the document
    kind: DocumentKind
    reason: StepReason
    new_deadline_days: int | None
    trigger: UUID | None
    plan: InterviewPlan = field(default_factory=InterviewPlan)
    grounds: str | None = None


@dataclass(frozen=True)
class TakenStep:
    """A step as it was written (what StepRead shows)."""

    id: UUID
    case_id: UUID | None
    index: int
    kind: DocumentKind
    reason: StepReason
    trigger_event_id: UUID | None
    new_deadline: date | None
    document_id: UUID
    document_number: str | None
    division_code: str
    grounds: str | None
    created_at: datetime
    created_by: str


async def _take_steps(
    uow: UnitOfWork, divisions: DivisionTree, orders: Sequence[StepOrder], notices: list[Notice]
) -> list[TakenStep]:
    """Issue the steps' documents, tell each unit and its department (appended to ``notices``), and tell
    the originating services; the cases' step counts move in memory, for the caller to write."""
    if not orders:
        return []
    today, now = uow.clock.today(), uow.clock.now()
    deadlines = [today + timedelta(days=o.new_deadline_days) if o.new_deadline_days else None for o in orders]
    issued = await documents.issue_all(
        uow,
        divisions,
        [Issue(o.kind, o.to, o.office_division, d, o.plan) for o, d in zip(orders, deadlines, strict=True)],
    )
    taken = []
    for order, new_deadline, document in zip(orders, deadlines, issued, strict=True):
        case = order.case
        index = 0
        if case is not None:
            index = case.step_count
            case.step_count += 1
        step = TakenStep(
            id=uuid7(),
            case_id=case.id if case else None,
            index=index,
            kind=order.kind,
            reason=order.reason,
            trigger_event_id=order.trigger,
            new_deadline=new_deadline,
            document_id=document.id,
            document_number=document.number,
            division_code=order.to.division_code,
            grounds=order.grounds,
            created_at=now,
            created_by=uow.actor.id,
        )
        taken.append(step)
        name = texts.KIND_NAMES[order.kind]
        title = f"{name}：{document.number}" if document.number else f"{name}（待作出）"
        notices.append(
            Notice(
                order.to,
                title,
                document.body,
                case_id=step.case_id,
                step_id=step.id,
                department_id=order.to.competent_department_id,
            )
        )
        uow.record(
            "escalation.step_taken",
            "escalation_step",
            step.id,
            step.division_code,
            kind=order.kind.value,
            reason=order.reason.value,
            number=document.number,
        )
        # A step without a rectification stands as its own case; a duty evaluation's case follows none.
        on = case if case is not None and not _is_duty_evaluation(case) else None
        uow.emit(
            EscalationStepTaken(
                division=step.division_code,
                case_id=str(case.id if case else step.id),
                step_id=str(step.id),
                origin=cast(Origin, on.origin) if on else None,
                rectification_id=on.rectification_id if on else None,
                step_index=index,
                step_kind=cast(StepKind, order.kind.value),  # a ladder's or a manual step's: STEP_KINDS
                reason=order.reason.value,
                document_number=document.number,
                new_deadline=new_deadline,
            )
        )
    uow.insert(
        STEPS,
        (
            {
                "id": s.id,
                "case_id": s.case_id,
                "index": s.index,
                "kind": s.kind,
                "reason": s.reason,
                "trigger_event_id": s.trigger_event_id,
                "new_deadline": s.new_deadline,
                "document_id": s.document_id,
                "division_code": s.division_code,
                "grounds": s.grounds,
                "created_at": s.created_at,
                "created_by": s.created_by,
            }
            for s in taken
        ),
    )
    return taken


async def order_step(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: ManualStepCreate
) -> TakenStep:
    """A step ordered by an office: on a case, or against a unit without a rectification (e.g. an
    interview for refusing supervision, 拒不接受督导). The ordering office issues the document."""
    case: Case | None = None
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
        case = await repository.lock_visible_case(uow.session, who, body.case_id)
        if case is None:
            raise CaseNotFound(f"Case {body.case_id} does not exist")
        if case.status is CaseStatus.CLOSED:
            raise CaseClosed(f"Case {case.id} was closed on {case.closed_at}")
        to = _addressee(case, body.grounds)
    notices: list[Notice] = []
    order = StepOrder(
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
    [step] = await _take_steps(uow, divisions, [order], notices)
    notifications.notify_all(uow, notices)
    _write_cases(uow, [case] if case else [])
    return step


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


async def visits_behind(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[Fact[SchoolVisitsBehind]]
) -> None:
    """Schools fell behind on routine visits: the supervision office of each one's county answers for it.

    Routine visits are the duty of the county office and its responsible inspectors (RULES.md §2–§3). At
    the semester's midpoint the office is told; at its end the office above it, which supervises it,
    issues an urging order to it, copied to itself, with a new deadline. Each fact acts once, whatever
    its deliveries and event ids: it is recorded under an id derived from what it is about.
    """
    now = uow.clock.now()
    rows = [
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
            "division_code": event.division,
            "occurred_at": now,
        }
        for event, fact_id in facts
    ]
    new = await repository.note_visits_behind(uow.session, rows)
    notices: list[Notice] = []
    orders: list[StepOrder] = []
    for (event, fact_id), row in zip(facts, rows, strict=True):
        if fact_id not in new:
            continue  # heard before
        county = event.division
        uow.record(
            "visits_behind.noted",
            "visits_behind_fact",
            row["id"],
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
            unit_name=documents.office_name(divisions, county),
            competent_department=None,
            division_code=county,
            case_id=None,
            grounds=_visits_behind(event),
        )
        if event.checkpoint == "midpoint":
            notices.append(
                Notice(
                    office,
                    "经常性督导进度滞后",
                    f"{office.unit_name}：\n{office.grounds}。请督促责任督学在学期结束"
                    f"（{texts.day(event.semester_end)}）前完成经常性督导；"
                    "届时仍未完成的，上级教育督导机构将发出督办单。",
                    case_id=None,
                    step_id=None,
                )
            )
            continue
        above = documents.superior(divisions, county)
        if above is not None:
            office = replace(
                office,
                competent_department=documents.office_name(divisions, above),
                competent_department_id=texts.office_id(above),
            )
        orders.append(
            StepOrder(
                None,
                office,
                above or county,  # the office above issues it; at the top, the office itself
                DocumentKind.URGING_ORDER,
                StepReason.VISITS_BEHIND,
                VISITS_BEHIND_DEADLINE_DAYS,
                trigger=fact_id,
                grounds=office.grounds,
            )
        )
    await _take_steps(uow, divisions, orders, notices)
    notifications.notify_all(uow, notices)


# ---- duty evaluations of governments (二三) and emergency supervision: governance's facts

DUTY_EVALUATION = "duty_evaluation"  # the category of a duty evaluation's case, and of its ladder
_DUTY_EVALUATION_KEY = "duty-evaluation:"  # + the unit's id: the case's key in place of a rectification
# Calendar days an urging order on a late emergency report gives: it is a matter of hours already.
REPORT_OVERDUE_DEADLINE_DAYS = 1


def _is_duty_evaluation(case: Case) -> bool:
    return case.rectification_id.startswith(_DUTY_EVALUATION_KEY)


def failed(event: DutyEvaluationConcluded) -> bool:
    """A trigger of accountability (RULES.md §5): a fail, or an annual target not met."""
    return event.grade == "fail" or bool(event.targets_missed)


@dataclass(frozen=True)
class Evaluated:
    """A concluded duty evaluation as the subject of its unit's case: one case per unit, which climbs its
    ladder with each failed evaluation and closes with one that passes."""

    event_type: str
    origin: str
    rectification_id: str
    finding_id: str
    category: str
    severity: str
    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    office_division: str
    division: str
    deadline: date  # the day the evaluation concluded: what the case's history dates the fact by

    @classmethod
    def of(cls, event: DutyEvaluationConcluded) -> Evaluated:
        return cls(
            event_type=event.event_type,
            origin=event.source_service(),
            rectification_id=f"{_DUTY_EVALUATION_KEY}{event.unit_id}",
            finding_id=event.evaluation_id,
            category=DUTY_EVALUATION,
            severity=event.grade if event.grade == "fail" or not event.targets_missed else "targets_missed",
            unit_id=event.unit_id,
            unit_kind=event.unit_kind,
            unit_name=event.unit_name,
            competent_department=None,
            office_division=event.office_division,
            division=event.division,
            deadline=event.concluded_at.astimezone(BUSINESS_TZ).date(),
        )


async def duty_evaluations(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[Fact[DutyEvaluationConcluded]]
) -> None:
    """A failed duty evaluation, or one whose annual targets were missed, takes the next step of its unit's
    case, issued by the evaluating office: by the duty_evaluation ladder (data) first an interview of the
    responsible person, then a circular. An evaluation that passes closes the unit's open case.

    A unit evaluated twice in one batch (two years) is handled a fact at a time, in order."""
    while facts:
        first = {e.unit_id: (e, f) for e, f in reversed(facts)}  # each unit's first fact
        now = [fact for fact in facts if first[fact[0].unit_id] == fact]
        await _duty_evaluations(uow, divisions, now)
        facts = [fact for fact in facts if fact not in now]
        if facts:
            await uow.flush()


async def _duty_evaluations(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[Fact[DutyEvaluationConcluded]]
) -> None:
    passed = [(Evaluated.of(e), f) for e, f in facts if not failed(e)]
    if passed:
        locked = await repository.lock_cases(uow.session, [_key(s) for s, _ in passed])
        existing = {(c.origin, c.rectification_id) for c in locked}
        await _transition(
            uow, [(s, f) for s, f in passed if _key(s) in existing], CaseStatus.CLOSED, FactOutcome.CLOSED
        )
    failing = [(Evaluated.of(e), e, f) for e, f in facts if failed(e)]
    if not failing:
        return
    cases = await _cases_for(uow, [s for s, _, _ in failing])
    planned = [(s, e, f, cases[_key(s)], _next_step(cases[_key(s)])) for s, e, f in failing]
    new = await _note(
        uow,
        [
            (case, s, f, FactOutcome.LADDER_EXHAUSTED if step is None else FactOutcome.STEP_TAKEN)
            for s, _, f, case, step in planned
        ],
    )
    orders: list[StepOrder] = []
    changed: list[Case] = []
    for _, event, fact_id, case, step in planned:
        if fact_id not in new:
            continue
        if case.status is CaseStatus.CLOSED:  # failing again after it had passed: the case goes on
            case.status, case.closed_at = CaseStatus.OPEN, None
            uow.record("case.reopened", "escalation_case", case.id, case.division_code, by="duty_evaluation")
        changed.append(case)
        if step is None:
            continue
        to = replace(
            _addressee(case, texts.duty_evaluation_failed(event)),
            responsible_person=event.responsible_person,
        )
        orders.append(
            StepOrder(
                case,
                to,
                event.office_division,
                step.kind,
                StepReason.DUTY_EVALUATION,
                step.new_deadline_days,
                trigger=fact_id,
                grounds=to.grounds,
            )
        )
    notices: list[Notice] = []
    await _take_steps(uow, divisions, orders, notices)
    for order in orders:
        assert order.case is not None
        order.case.ladder_position += 1
    notifications.notify_all(uow, notices)
    _write_cases(uow, changed)


async def reports_overdue(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[Fact[EmergencyReportOverdue]]
) -> None:
    """First reports of emergency supervisions came late (二三): the office above the running office
    urges it with an urging order copied to itself (at the top, the office urges itself). The caller
    hands over each fact once."""
    orders: list[StepOrder] = []
    for event, fact_id in facts:
        running = event.office_division
        above = documents.superior(divisions, running)
        office = Addressee(
            unit_id=texts.office_id(running),
            unit_kind=texts.SUPERVISION_OFFICE,
            unit_name=documents.office_name(divisions, running),
            competent_department=documents.office_name(divisions, above) if above else None,
            division_code=running,
            case_id=None,
            grounds=texts.emergency_report_overdue(event.incident, event.opened_at, event.report_due_at),
            competent_department_id=texts.office_id(above) if above else None,
        )
        orders.append(
            StepOrder(
                None,
                office,
                above or running,
                DocumentKind.URGING_ORDER,
                StepReason.REPORT_OVERDUE,
                REPORT_OVERDUE_DEADLINE_DAYS,
                trigger=fact_id,
                grounds=office.grounds,
            )
        )
    notices: list[Notice] = []
    await _take_steps(uow, divisions, orders, notices)
    notifications.notify_all(uow, notices)


# ---- reads


async def _visible_case(
    uow: UnitOfWork, who: Principal, case_id: UUID, *, detail: bool = False
) -> EscalationCase:
    case = await repository.get_visible_case(uow.session, who, case_id, detail=detail)
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
