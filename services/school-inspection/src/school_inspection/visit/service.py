"""The rules of visits and of the routine-visit clock. No SQL, no commit: the unit of work commits
the visit, the findings it raised, their events and the audit entries together."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from dudao import policies
from dudao.auth.principal import Principal
from dudao.clock import BUSINESS_TZ
from dudao.contracts.inspection import SchoolVisitsBehind, VisitRecorded
from dudao.divisions.tree import DivisionTree
from dudao.errors import InvalidInput, NotFound, field_error
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.rectification.models import OriginKind
from dudao.rectification.schemas import FindingCreate, SupervisedUnit
from dudao.uow import UnitOfWork
from school_inspection.rectifications import rectifications
from school_inspection.school import service as schools
from school_inspection.school.models import School
from school_inspection.school.service import supervised_unit, visible_division
from school_inspection.visit import repository, roster
from school_inspection.visit.models import (
    ITEM_LABELS,
    Checkpoint,
    Observation,
    RoutineItem,
    Visit,
    VisitInspector,
    VisitItem,
    VisitKind,
    VisitPolicy,
    VisitsBehind,
)
from school_inspection.visit.schemas import ItemObservation, PolicyWrite, VisitCreate
from school_inspection.visit.semesters import Boundaries, Due, due_checkpoints

# A phone's clock may run a little ahead of ours; a visit further in the future is a mistake.
CLOCK_TOLERANCE = timedelta(minutes=5)
# 《教育督导条例》: a supervision team has at least three inspectors.
MIN_COMPREHENSIVE_TEAM = 3
ITEM_ORDER = {item: position for position, item in enumerate(RoutineItem)}


class VisitNotFound(NotFound):
    type = "visit-not-found"
    title = "No such visit"


class InvalidVisit(InvalidInput):
    type = "invalid-visit"
    title = "The visit breaks a rule of visits"


def _check_shape(body: VisitCreate, now: datetime) -> None:
    if body.ended_at <= body.started_at:
        raise field_error(InvalidVisit, "ended_at", "must be after started_at")
    if body.ended_at > now + CLOCK_TOLERANCE:
        raise field_error(InvalidVisit, "ended_at", "lies in the future")
    if body.comprehensive and body.kind != VisitKind.SPECIAL:
        raise field_error(
            InvalidVisit, "comprehensive", "a comprehensive supervision is a visit of kind special"
        )
    if len(set(body.inspector_ids)) != len(body.inspector_ids):
        raise field_error(InvalidVisit, "inspector_ids", "names an inspector twice")
    if body.comprehensive and len(body.inspector_ids) < MIN_COMPREHENSIVE_TEAM:
        raise field_error(
            InvalidVisit,
            "inspector_ids",
            f"a comprehensive supervision needs at least {MIN_COMPREHENSIVE_TEAM}",
        )
    items = [o.item for o in body.items]
    if len(set(items)) != len(items):
        raise field_error(InvalidVisit, "items", "observes an item twice")
    if body.kind == VisitKind.ROUTINE and set(items) != set(RoutineItem):
        missing = ", ".join(i.value for i in RoutineItem if i not in items)
        raise field_error(
            InvalidVisit, "items", f"a routine visit observes all eight routine items; missing: {missing}"
        )


async def _check_people_and_evidence(
    uow: UnitOfWork, who: Principal, body: VisitCreate, school: School
) -> None:
    await roster.require_team(uow, who, body.inspector_ids, school)
    await evidence.require_usable(uow, who, [e for o in body.items for e in o.evidence_ids])


def competent_department(divisions: DivisionTree, school: School) -> str | None:
    """The county education bureau (教育局) that runs the school, when the county is known."""
    county = divisions.get(school.division_code)
    return f"{county.name}教育局" if county is not None else None


def _finding(visit_id: UUID, unit: SupervisedUnit, o: ItemObservation) -> FindingCreate:
    assert o.raise_finding is not None
    assert o.notes is not None
    finding = o.raise_finding
    return FindingCreate(
        unit=unit,
        origin_kind=OriginKind.VISIT,
        origin_ref=str(visit_id),
        category=finding.category,
        severity=finding.severity,
        description=f"{ITEM_LABELS[o.item]}：{o.notes}",
        evidence_ids=o.evidence_ids,
        requirement=finding.requirement,
        deadline=finding.deadline,
    )


async def record(uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: VisitCreate) -> Visit:
    """Record a visit; each problem raised as a finding opens a rectification in the same transaction."""
    now = uow.clock.now()
    _check_shape(body, now)
    school = await schools.get(uow, who, body.school_id)
    await _check_people_and_evidence(uow, who, body, school)
    visit_id = uuid7()
    observations = sorted(body.items, key=lambda o: ITEM_ORDER[o.item])
    unit = supervised_unit(school, competent_department(divisions, school))
    raising = [o for o in observations if o.raise_finding is not None]
    raised = await rectifications.service.raise_findings(
        uow, who, divisions, [_finding(visit_id, unit, o) for o in raising]
    )
    rectification_ids = {o.item: r.id for o, r in zip(raising, raised, strict=True)}
    position = body.position
    visit = await repository.add(
        uow.session,
        Visit(
            id=visit_id,
            school_id=school.id,
            division_code=school.division_code,
            kind=body.kind,
            comprehensive=body.comprehensive,
            announced=body.announced,
            started_at=body.started_at.astimezone(UTC),
            ended_at=body.ended_at.astimezone(UTC),
            latitude=position.lat if position else None,
            longitude=position.lon if position else None,
            position_accuracy_m=position.accuracy_m if position else None,
            summary=body.summary,
            recorded_by=who.sub,
            created_at=now,
            updated_at=now,
            team=[VisitInspector(inspector_id=i, position=n) for n, i in enumerate(body.inspector_ids)],
            items=[
                VisitItem(
                    item=o.item,
                    position=ITEM_ORDER[o.item],
                    result=o.result,
                    notes=o.notes,
                    evidence_ids=o.evidence_ids,
                    rectification_id=rectification_ids.get(o.item),
                )
                for o in observations
            ],
        ),
    )
    uow.record(
        "visit.recorded",
        "visit",
        visit.id,
        visit.division_code,
        school_id=str(school.id),
        kind=visit.kind.value,
        problems=sum(o.result == Observation.PROBLEM_FOUND for o in observations),
        findings=len(rectification_ids),
    )
    uow.emit(
        VisitRecorded(
            division=visit.division_code,
            visit_id=str(visit.id),
            school_id=str(school.id),
            school_code=school.school_code,
            kind=visit.kind.value,
            comprehensive=visit.comprehensive,
            announced=visit.announced,
            started_at=visit.started_at,
            findings=len(rectification_ids),
        )
    )
    return visit


async def get(uow: UnitOfWork, who: Principal, visit_id: UUID) -> Visit:
    visit = await repository.get_visible(uow.session, who, visit_id)
    if visit is None:
        raise VisitNotFound(f"Visit {visit_id} does not exist")
    return visit


async def page(uow: UnitOfWork, who: Principal, *, limit: int, **filters: Any) -> list[Visit]:
    return await repository.page(uow.session, who, limit=limit + 1, **filters)


# The policy -----------------------------------------------------------------------------------------------


async def effective_policy(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, division_code: str
) -> VisitPolicy:
    return await repository.effective_policy(uow.session, visible_division(who, divisions, division_code))


async def set_policy(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    division_code: str,
    if_match: str | None,
    body: PolicyWrite,
) -> tuple[VisitPolicy, bool]:
    """Set the policy of a division's jurisdiction; True when the row is new. Changing one needs If-Match."""
    values = {
        "routine_visits_per_semester": body.routine_visits_per_semester,
        "spring_start_month": body.spring_starts.month,
        "spring_start_day": body.spring_starts.day,
        "autumn_start_month": body.autumn_starts.month,
        "autumn_start_day": body.autumn_starts.day,
        "comprehensive_cycle_years": body.comprehensive_cycle_years,
    }
    return await policies.put(uow, who, divisions, VisitPolicy, division_code, if_match, values)


# Schools behind the policy --------------------------------------------------------------------------------


def boundaries(policy: VisitPolicy) -> Boundaries:
    return Boundaries(
        spring=(policy.spring_start_month, policy.spring_start_day),
        autumn=(policy.autumn_start_month, policy.autumn_start_day),
    )


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)


def _more_specific(policy: VisitPolicy, policies: Collection[VisitPolicy]) -> list[str]:
    return [
        p.division_prefix
        for p in policies
        if p.division_prefix != policy.division_prefix
        and p.division_prefix.startswith(policy.division_prefix)
    ]


async def _claim(uow: UnitOfWork, policy: VisitPolicy, due: Due, school: School, visits: int) -> bool:
    """Record the fact and emit it, unless it was noticed already."""
    semester = due.semester
    fact = VisitsBehind(
        id=uuid7(),
        school_id=school.id,
        division_code=school.division_code,
        semester=semester.label,
        checkpoint=due.checkpoint,
        semester_start=semester.start,
        semester_end=semester.end,
        checkpoint_date=due.counted_before,
        visits=visits,
        required=policy.routine_visits_per_semester,
        noticed_at=uow.clock.now(),
    )
    if not await repository.claim_behind(uow.session, fact):
        return False
    uow.emit(
        SchoolVisitsBehind(
            division=school.division_code,
            school_id=str(school.id),
            school_code=school.school_code,
            school_name=school.name,
            semester=semester.label,
            semester_start=semester.start,
            semester_end=semester.end,
            checkpoint=due.checkpoint.value,
            checkpoint_date=due.counted_before,
            visits=visits,
            required=policy.routine_visits_per_semester,
        )
    )
    return True


async def notice_behind(uow: UnitOfWork, today: date, batch: int = 500) -> int:
    """Emit one fact per (school, semester, checkpoint) a school fell behind at, under its own policy.

    Only schools registered before a semester began are held to it: visits before a school entered the
    registry were never recorded here. Batches repeat until no school is left behind unnoticed (a claimed
    school no longer matches), so a semester's end is handled in one run however many schools it concerns.
    """
    policies = await repository.policies(uow.session)
    noticed = 0
    for policy in policies:
        for due in due_checkpoints(boundaries(policy), policy.routine_visits_per_semester, today):
            while True:
                behind = await repository.lock_behind(
                    uow.session,
                    prefix=policy.division_prefix,
                    except_prefixes=_more_specific(policy, policies),
                    semester=due.semester.label,
                    checkpoint=due.checkpoint,
                    counted_from=_instant(due.semester.start),
                    counted_before=_instant(due.counted_before),
                    needed=due.needed,
                    limit=batch,
                )
                for school, visits in behind:
                    noticed += await _claim(uow, policy, due, school, visits)
                if len(behind) < batch:
                    break
    return noticed


async def behind_page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    semester: str | None,
    checkpoint: Checkpoint | None,
) -> list[VisitsBehind]:
    return await repository.behind_page(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        within=within,
        semester=semester,
        checkpoint=checkpoint,
    )
