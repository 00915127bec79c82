"""Every query about comprehensive supervision cycles, always through the jurisdiction helper."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from school_inspection.cycle.models import Cycle, CycleSchool
from school_inspection.school.models import School
from school_inspection.visit.models import Visit, VisitKind


class PlannedSchool(NamedTuple):
    school_id: UUID
    school_code: str
    name: str
    planned_year: int
    visit_id: UUID | None  # a comprehensive visit within the cycle; one row per such visit
    visit_started_at: datetime | None


async def lock_division(session: AsyncSession, division_code: str) -> None:
    """Serialise planning in one county, so two overlapping cycles cannot both pass the overlap check."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext("comprehensive_cycle:" + division_code)))
    )


async def overlapping(
    session: AsyncSession, division_code: str, first_year: int, last_year: int
) -> Cycle | None:
    stmt = select(Cycle).where(
        Cycle.division_code == division_code,
        Cycle.start_year <= last_year,
        Cycle.start_year + Cycle.years - 1 >= first_year,
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def schools_of(session: AsyncSession, division_code: str) -> list[UUID]:
    """The county's schools by school code: the order the plan spreads them in."""
    stmt = select(School.id).where(School.division_code == division_code).order_by(School.school_code)
    return list((await session.execute(stmt)).scalars())


async def add(session: AsyncSession, cycle: Cycle, planned: list[tuple[UUID, int]]) -> Cycle:
    session.add(cycle)
    await session.flush()
    await session.execute(
        insert(CycleSchool),
        [{"cycle_id": cycle.id, "school_id": school, "planned_year": year} for school, year in planned],
    )
    return cycle


async def plan_counts(session: AsyncSession, cycle_id: UUID) -> list[tuple[int, int]]:
    stmt = (
        select(CycleSchool.planned_year, func.count())
        .where(CycleSchool.cycle_id == cycle_id)
        .group_by(CycleSchool.planned_year)
        .order_by(CycleSchool.planned_year)
    )
    return [(year, count) for year, count in await session.execute(stmt)]


async def page(session: AsyncSession, who: Principal, *, after: UUID | None, limit: int) -> list[Cycle]:
    stmt = visible_to(select(Cycle), who, Cycle.division_code).order_by(Cycle.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Cycle.id > after)
    return list((await session.execute(stmt)).scalars())


async def planned_with_visits(
    session: AsyncSession, cycle_id: UUID, visited_from: datetime, visited_before: datetime
) -> list[PlannedSchool]:
    """Each planned school, joined to its comprehensive visits in the window (by school code, then time)."""
    comprehensive = and_(
        Visit.school_id == CycleSchool.school_id,
        Visit.kind == VisitKind.SPECIAL,
        Visit.comprehensive.is_(True),
        Visit.started_at >= visited_from,
        Visit.started_at < visited_before,
    )
    stmt = (
        select(
            CycleSchool.school_id,
            School.school_code,
            School.name,
            CycleSchool.planned_year,
            Visit.id,
            Visit.started_at,
        )
        .join(School, School.id == CycleSchool.school_id)
        .outerjoin(Visit, comprehensive)
        .where(CycleSchool.cycle_id == cycle_id)
        .order_by(School.school_code, Visit.started_at)
    )
    return [PlannedSchool(*row) for row in await session.execute(stmt)]


async def unplanned(session: AsyncSession, cycle: Cycle) -> list[UUID]:
    planned = select(CycleSchool.school_id).where(CycleSchool.cycle_id == cycle.id)
    stmt = (
        select(School.id)
        .where(School.division_code == cycle.division_code, School.id.not_in(planned))
        .order_by(School.school_code)
    )
    return list((await session.execute(stmt)).scalars())
