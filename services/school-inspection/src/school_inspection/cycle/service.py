"""The rules of the comprehensive supervision cycle (综合督导): each school of a county once per cycle.

A comprehensive supervision is recorded as a visit of kind ``special`` with ``comprehensive`` set (a team of
at least three). The planner spreads the county's schools, ordered by school code, over the cycle's years:
school i of n goes to year ``start_year + ⌊i·years/n⌋``, so the years' loads differ by at most one. Coverage
compares each school's comprehensive visits in the cycle (Asia/Shanghai years) with its planned year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.clock import BUSINESS_TZ
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, NotFound
from dudao.jurisdiction import require_visible
from dudao.uow import UnitOfWork
from school_inspection.cycle import repository
from school_inspection.cycle.models import CoverageStatus, Cycle
from school_inspection.cycle.repository import PlannedSchool
from school_inspection.cycle.schemas import (
    CoverageRead,
    CyclePlan,
    CycleRead,
    SchoolCoverage,
    YearCoverage,
    YearPlan,
)
from school_inspection.school.service import require_within
from school_inspection.visit import repository as visits


class CycleNotFound(NotFound):
    type = "cycle-not-found"
    title = "No such comprehensive supervision cycle"


class CycleOverlaps(Conflict):
    type = "cycle-overlaps"
    title = "The county already has a cycle covering some of these years"


class NoSchools(Conflict):
    type = "no-schools-to-plan"
    title = "The county has no registered schools to plan"


def spread(school_ids: Sequence[UUID], start_year: int, years: int) -> list[tuple[UUID, int]]:
    """School i of n (in the given order) goes to year start_year + ⌊i·years/n⌋."""
    n = len(school_ids)
    return [(school, start_year + i * years // n) for i, school in enumerate(school_ids)]


def _cycle_read(cycle: Cycle, counts: list[tuple[int, int]]) -> CycleRead:
    per_year = dict(counts)
    return CycleRead(
        id=cycle.id,
        division_code=cycle.division_code,
        start_year=cycle.start_year,
        end_year=cycle.end_year,
        years=cycle.years,
        plan=[
            YearPlan(year=y, planned=per_year.get(y, 0)) for y in range(cycle.start_year, cycle.end_year + 1)
        ],
        created_by=cycle.created_by,
        created_at=cycle.created_at,
    )


async def plan(uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: CyclePlan) -> CycleRead:
    require_within(divisions, who, body.division_code, county=True)  # cycles are planned per county
    years = (await visits.effective_policy(uow.session, body.division_code)).comprehensive_cycle_years
    last_year = body.start_year + years - 1
    await repository.lock_division(uow.session, body.division_code)
    existing = await repository.overlapping(uow.session, body.division_code, body.start_year, last_year)
    if existing is not None:
        raise CycleOverlaps(
            f"Cycle {existing.id} runs {existing.start_year}–{existing.end_year} in {body.division_code}"
        )
    schools = await repository.schools_of(uow.session, body.division_code)
    if not schools:
        raise NoSchools(f"Register the schools of {body.division_code} first")
    planned = spread(schools, body.start_year, years)
    cycle = await repository.add(
        uow.session,
        Cycle(
            division_code=body.division_code,
            start_year=body.start_year,
            years=years,
            created_by=who.sub,
            created_at=uow.clock.now(),
        ),
        planned,
    )
    uow.record(
        "cycle.planned",
        "comprehensive_cycle",
        cycle.id,
        cycle.division_code,
        years=years,
        schools=len(schools),
    )
    counts: dict[int, int] = {}
    for _, year in planned:
        counts[year] = counts.get(year, 0) + 1
    return _cycle_read(cycle, sorted(counts.items()))


async def _visible(uow: UnitOfWork, who: Principal, cycle_id: UUID) -> Cycle:
    return await require_visible(
        uow.session, who, Cycle, cycle_id, CycleNotFound(f"Cycle {cycle_id} does not exist")
    )


async def get(uow: UnitOfWork, who: Principal, cycle_id: UUID) -> CycleRead:
    cycle = await _visible(uow, who, cycle_id)
    return _cycle_read(cycle, await repository.plan_counts(uow.session, cycle.id))


async def page(uow: UnitOfWork, who: Principal, *, after: UUID | None, limit: int) -> list[Cycle]:
    return await repository.page(uow.session, who, after=after, limit=limit + 1)


def _year_start(year: int) -> datetime:
    return datetime.combine(date(year, 1, 1), time(0), tzinfo=BUSINESS_TZ)


def status_of(planned_year: int, visit_years: Sequence[int], this_year: int) -> CoverageStatus:
    if planned_year in visit_years:
        return CoverageStatus.COVERED
    if any(y < planned_year for y in visit_years):
        return CoverageStatus.COVERED_EARLY
    if visit_years:
        return CoverageStatus.COVERED_LATE
    if this_year > planned_year:
        return CoverageStatus.LATE
    return CoverageStatus.DUE if this_year == planned_year else CoverageStatus.UPCOMING


def _school_coverage(rows: list[PlannedSchool], this_year: int) -> SchoolCoverage:
    first = rows[0]
    visited = [
        (r.visit_id, r.visit_started_at.astimezone(BUSINESS_TZ).date()) for r in rows if r.visit_started_at
    ]
    status = status_of(first.planned_year, [day.year for _, day in visited], this_year)
    # The visit that counts: one in the planned year if there is one, else the first.
    counting = next((v for v in visited if v[1].year == first.planned_year), visited[0] if visited else None)
    return SchoolCoverage(
        school_id=first.school_id,
        school_code=first.school_code,
        name=first.name,
        status=status,
        visit_id=counting[0] if counting else None,
        visited_on=counting[1] if counting else None,
    )


def _counts(schools: Sequence[SchoolCoverage]) -> dict[CoverageStatus, int]:
    return {status: sum(s.status == status for s in schools) for status in CoverageStatus}


async def coverage(uow: UnitOfWork, who: Principal, cycle_id: UUID) -> CoverageRead:
    """Year by year, which planned schools had their comprehensive supervision, and which are late."""
    cycle = await _visible(uow, who, cycle_id)
    today = uow.clock.today()
    rows = await repository.planned_with_visits(
        uow.session, cycle.id, _year_start(cycle.start_year), _year_start(cycle.end_year + 1)
    )
    by_school: dict[UUID, list[PlannedSchool]] = {}
    for row in rows:
        by_school.setdefault(row.school_id, []).append(row)
    schools = [_school_coverage(group, today.year) for group in by_school.values()]
    planned_year = {group[0].school_id: group[0].planned_year for group in by_school.values()}
    years = []
    for year in range(cycle.start_year, cycle.end_year + 1):
        in_year = [s for s in schools if planned_year[s.school_id] == year]
        years.append(YearCoverage(year=year, planned=len(in_year), counts=_counts(in_year), schools=in_year))
    return CoverageRead(
        cycle_id=cycle.id,
        division_code=cycle.division_code,
        start_year=cycle.start_year,
        end_year=cycle.end_year,
        as_of=today,
        counts=_counts(schools),
        years=years,
        unplanned_school_ids=await repository.unplanned(uow.session, cycle),
    )
