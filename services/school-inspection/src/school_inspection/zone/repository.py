"""Every query about zones and coverage, always through the jurisdiction helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dudao.auth.principal import Principal
from dudao.db import unique_violation
from dudao.jurisdiction import listed, visible_to
from school_inspection.inspector.models import (
    Assignment,
    InspectionPolicy,
    Inspector,
    InspectorStatus,
    TrainingKind,
    TrainingRecord,
)
from school_inspection.inspector.repository import current_on, policy_value, pre_service_trained
from school_inspection.school.models import School
from school_inspection.zone.models import InspectionZone, ZoneSchool


async def add(session: AsyncSession, zone: InspectionZone) -> InspectionZone | None:
    """The zone, or None if its county already has a zone of that name."""
    session.add(zone)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc, "uq_inspection_zone_division_code_name"):
            return None
        raise
    return zone


async def page(
    session: AsyncSession, who: Principal, *, after: UUID | None, limit: int, within: str | None
) -> list[InspectionZone]:
    stmt = listed(select(InspectionZone), who, InspectionZone.division_code, within)
    if after is not None:
        stmt = stmt.where(InspectionZone.id > after)
    return list((await session.execute(stmt.order_by(InspectionZone.id).limit(limit))).scalars())


async def size(session: AsyncSession, zone_id: UUID) -> int:
    stmt = select(func.count()).select_from(ZoneSchool).where(ZoneSchool.zone_id == zone_id)
    return int((await session.execute(stmt)).scalar_one())


async def membership(session: AsyncSession, school_id: UUID) -> ZoneSchool | None:
    return await session.get(ZoneSchool, school_id)


async def add_member(session: AsyncSession, member: ZoneSchool) -> ZoneSchool | None:
    """The membership, or None if the school joined a zone meanwhile (its key decides, race-free)."""
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc, "pk_inspection_zone_school"):
            return None
        raise
    return member


async def remove_member(session: AsyncSession, member: ZoneSchool) -> None:
    await session.delete(member)
    await session.flush()


async def member_page(
    session: AsyncSession, zone_id: UUID, *, after: UUID | None, limit: int
) -> list[School]:
    stmt = (
        select(School)
        .join(ZoneSchool, ZoneSchool.school_id == School.id)
        .where(ZoneSchool.zone_id == zone_id)
    )
    if after is not None:
        stmt = stmt.where(School.id > after)
    return list((await session.execute(stmt.order_by(School.id).limit(limit))).scalars())


# --- coverage ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A section of a coverage report: a select of rows, paged on ``key``; ``entity`` when it selects
    whole records rather than labelled columns."""

    stmt: Select[Any]
    key: InstrumentedAttribute[UUID]
    entity: bool = False


def uncovered_schools(who: Principal, prefix: str, today: date) -> Section:
    covered = exists().where(Assignment.school_id == School.id, *current_on(today))
    stmt = select(School).where(School.division_code.startswith(prefix, autoescape=True), ~covered)
    return Section(visible_to(stmt, who, School.division_code), School.id, entity=True)


def overloaded_inspectors(who: Principal, prefix: str, today: date) -> Section:
    dedicated = School.enrolment > policy_value(
        InspectionPolicy.dedicated_enrolment_threshold, School.division_code
    )
    load = (
        select(
            Assignment.inspector_id,
            func.count().label("schools"),
            func.bool_or(dedicated).label("holds_dedicated_school"),
        )
        .join(School, School.id == Assignment.school_id)
        .where(*current_on(today))
        .group_by(Assignment.inspector_id)
        .subquery()
    )
    max_schools = policy_value(InspectionPolicy.max_schools_per_inspector, Inspector.division_code)
    stmt = (
        select(
            Inspector.id,
            Inspector.name,
            Inspector.division_code,
            load.c.schools,
            max_schools.label("max_schools"),
            load.c.holds_dedicated_school,
        )
        .join(load, load.c.inspector_id == Inspector.id)
        .where(
            Inspector.division_code.startswith(prefix, autoescape=True),
            or_(load.c.schools > max_schools, and_(load.c.holds_dedicated_school, load.c.schools > 1)),
        )
    )
    return Section(visible_to(stmt, who, Inspector.division_code), Inspector.id)


def untrained_inspectors(who: Principal, prefix: str, year: int) -> Section:
    pre_service = pre_service_trained(Inspector.id)
    hours = (
        select(func.coalesce(func.sum(TrainingRecord.class_hours), 0))
        .where(
            TrainingRecord.inspector_id == Inspector.id,
            TrainingRecord.kind == TrainingKind.COLLECTIVE,
            TrainingRecord.held_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .scalar_subquery()
    )
    required = policy_value(InspectionPolicy.annual_training_hours, Inspector.division_code)
    stmt = select(
        Inspector.id,
        Inspector.name,
        Inspector.division_code,
        pre_service.label("pre_service"),
        hours.label("hours_this_year"),
        required.label("hours_required"),
    ).where(
        Inspector.status == InspectorStatus.APPOINTED,
        Inspector.division_code.startswith(prefix, autoescape=True),
        or_(~pre_service, hours < required),
    )
    return Section(visible_to(stmt, who, Inspector.division_code), Inspector.id)


def oversized_zones(who: Principal, prefix: str) -> Section:
    members = select(func.count()).where(ZoneSchool.zone_id == InspectionZone.id).scalar_subquery()
    max_schools = policy_value(InspectionPolicy.max_schools_per_zone, InspectionZone.division_code)
    stmt = select(
        InspectionZone.id,
        InspectionZone.name,
        InspectionZone.division_code,
        members.label("schools"),
        max_schools.label("max_schools"),
    ).where(InspectionZone.division_code.startswith(prefix, autoescape=True), members > max_schools)
    return Section(visible_to(stmt, who, InspectionZone.division_code), InspectionZone.id)


async def section_page(
    session: AsyncSession, section: Section, *, after: UUID | None, limit: int
) -> list[Any]:
    stmt = section.stmt if after is None else section.stmt.where(section.key > after)
    result = await session.execute(stmt.order_by(section.key).limit(limit))
    return list(result.scalars() if section.entity else result.all())


async def section_total(session: AsyncSession, section: Section) -> int:
    stmt = select(func.count()).select_from(section.stmt.subquery())
    return int((await session.execute(stmt)).scalar_one())


async def school_total(session: AsyncSession, who: Principal, prefix: str) -> int:
    stmt = visible_to(
        select(func.count())
        .select_from(School)
        .where(School.division_code.startswith(prefix, autoescape=True)),
        who,
        School.division_code,
    )
    return int((await session.execute(stmt)).scalar_one())
