"""Every query of the indicator library, always through the jurisdiction helper where a principal asks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import visible_to
from dudao.uow import UnitOfWork
from monitoring.indicator.models import (
    DataElement,
    EducationLevel,
    ElementKind,
    Indicator,
    IndicatorSystem,
    Standard,
    Threshold,
    UnitKind,
)

SYSTEMS = cast(Table, IndicatorSystem.__table__)
INDICATORS = cast(Table, Indicator.__table__)
ELEMENTS = cast(Table, DataElement.__table__)
STANDARDS = cast(Table, Standard.__table__)
THRESHOLDS = cast(Table, Threshold.__table__)

ByPrefix = TypeVar("ByPrefix", Standard, Threshold)


def add_system(
    uow: UnitOfWork,
    system: Mapping[str, Any],
    children: Mapping[Table, Sequence[Mapping[str, Any]]],
    *,
    edition_taken: DomainError,
) -> None:
    """An edition and everything under it: one statement per table."""
    uow.insert(SYSTEMS, [system], violations={"uq_indicator_system_key_edition": edition_taken})
    for table, rows in children.items():
        uow.insert(table, rows)


def _usable(who: Principal, above: Collection[str]) -> ColumnElement[bool]:
    """Systems of the caller's own jurisdiction, and those the offices above it (``above``: its division's
    path from the region down) recorded for the levels below them."""
    own = visible_to(select(IndicatorSystem.id), who, IndicatorSystem.office_division)
    return or_(IndicatorSystem.office_division.in_(above), IndicatorSystem.id.in_(own))


async def get_system(
    session: AsyncSession, who: Principal, above: Collection[str], system_id: UUID
) -> IndicatorSystem | None:
    stmt = select(IndicatorSystem).where(IndicatorSystem.id == system_id, _usable(who, above))
    return (await session.execute(stmt)).scalar_one_or_none()


async def system_by_id(session: AsyncSession, system_id: UUID) -> IndicatorSystem | None:
    """For the service's own reads (collection, balance): no principal, no jurisdiction."""
    return await session.get(IndicatorSystem, system_id)


async def system_by_key(session: AsyncSession, key: str, edition: int | None) -> IndicatorSystem | None:
    """The edition of ``key``, by default its newest: a key names one system platform-wide."""
    stmt = select(IndicatorSystem).where(IndicatorSystem.key == key)
    if edition is not None:
        stmt = stmt.where(IndicatorSystem.edition == edition)
    stmt = stmt.order_by(IndicatorSystem.edition.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def system_page(
    session: AsyncSession,
    who: Principal,
    above: Collection[str],
    *,
    after: UUID | None,
    limit: int,
    key: str | None,
    education_level: EducationLevel | None,
    updated_since: datetime | None,
    only: Collection[UUID] | None,
) -> list[IndicatorSystem]:
    stmt = select(IndicatorSystem).where(_usable(who, above))
    if only is not None:
        stmt = stmt.where(IndicatorSystem.id.in_(only))
    # Editions never change: a sync walk is by the time they were recorded.
    stmt = pagination.page(
        stmt,
        IndicatorSystem.id,
        after=after,
        limit=limit,
        equal=[(IndicatorSystem.key, key), (IndicatorSystem.education_level, education_level)],
        updated_at=IndicatorSystem.created_at,
        updated_since=updated_since,
    )
    return list((await session.execute(stmt)).scalars())


async def indicators(session: AsyncSession, system_id: UUID) -> list[Indicator]:
    stmt = select(Indicator).where(Indicator.system_id == system_id).order_by(Indicator.position)
    return list((await session.execute(stmt)).scalars())


async def elements(session: AsyncSession, system_id: UUID) -> list[DataElement]:
    stmt = select(DataElement).where(DataElement.system_id == system_id).order_by(DataElement.position)
    return list((await session.execute(stmt)).scalars())


async def element_page(
    session: AsyncSession,
    system_id: UUID,
    *,
    after: UUID | None,
    limit: int,
    kind: ElementKind | None,
    unit_kind: UnitKind | None,
) -> list[DataElement]:
    stmt = select(DataElement).where(DataElement.system_id == system_id)
    stmt = pagination.page(
        stmt,
        DataElement.id,
        after=after,
        limit=limit,
        equal=[(DataElement.kind, kind), (DataElement.unit_kind, unit_kind)],
    )
    return list((await session.execute(stmt)).scalars())


async def _covering(
    session: AsyncSession, model: type[ByPrefix], system_id: UUID, division_code: str | None
) -> list[ByPrefix]:
    """The rows of the system whose prefix covers ``division_code`` (all, without one), most specific
    prefix first."""
    stmt = select(model).where(model.system_id == system_id)
    if division_code is not None:
        stmt = stmt.where(literal(division_code).startswith(model.division_prefix))
    # Then in a stable order: standards as recorded (their ids are time-ordered), thresholds by code.
    then = Standard.id if model is Standard else Threshold.code
    stmt = stmt.order_by(func.length(model.division_prefix).desc(), model.division_prefix, then)
    return list((await session.execute(stmt)).scalars())


async def standards(session: AsyncSession, system_id: UUID, division_code: str | None) -> list[Standard]:
    return await _covering(session, Standard, system_id, division_code)


async def thresholds(session: AsyncSession, system_id: UUID, division_code: str | None) -> list[Threshold]:
    return await _covering(session, Threshold, system_id, division_code)
