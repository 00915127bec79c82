"""Every query of dropout control, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.dropout.models import (
    DropoutAssessment,
    DropoutMeasure,
    DropoutPupil,
    DropoutStatus,
    DropoutTarget,
)
from governance.unit.models import SupervisedUnitKind, SupervisedUnitRecord

PUPILS = cast(Table, DropoutPupil.__table__)
MEASURES = cast(Table, DropoutMeasure.__table__)
TARGETS = cast(Table, DropoutTarget.__table__)
ASSESSMENTS = cast(Table, DropoutAssessment.__table__)


def add_pupil(uow: UnitOfWork, row: dict[str, Any], *, registered: DomainError) -> None:
    uow.insert(PUPILS, [row], violations={"uq_dropout_pupil_division_code_id_number_index": registered})


async def get_pupil(
    session: AsyncSession,
    who: Principal,
    pupil_id: UUID,
    *,
    for_update: bool = False,
    with_measures: bool = False,
) -> DropoutPupil | None:
    stmt = visible_to(select(DropoutPupil), who, DropoutPupil.division_code).where(
        DropoutPupil.id == pupil_id
    )
    if with_measures:
        stmt = stmt.options(selectinload(DropoutPupil.measures))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_pupils(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    status: DropoutStatus | None,
    updated_since: datetime | None,
    id_number_index: str | None = None,
) -> Sequence[DropoutPupil]:
    stmt = listed(select(DropoutPupil), who, DropoutPupil.division_code, within)
    stmt = pagination.page(
        stmt,
        DropoutPupil.id,
        after=after,
        limit=limit,
        equal=[(DropoutPupil.status, status), (DropoutPupil.id_number_index, id_number_index)],
        updated_at=DropoutPupil.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


def add_measure(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(MEASURES, [row])


def update_pupil(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """By id; the caller locked the row."""
    uow.update(PUPILS, [row])


def add_target(uow: UnitOfWork, row: dict[str, Any], *, exists: DomainError) -> None:
    uow.insert(TARGETS, [row], violations={"uq_dropout_target_division_code_year": exists})


def update_target(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.update(TARGETS, [row])


async def page_targets(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    updated_since: datetime | None,
) -> Sequence[DropoutTarget]:
    stmt = listed(select(DropoutTarget), who, DropoutTarget.division_code, within)
    stmt = pagination.page(
        stmt,
        DropoutTarget.id,
        after=after,
        limit=limit,
        equal=[(DropoutTarget.year, year)],
        updated_at=DropoutTarget.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


async def county_counts(
    session: AsyncSession, who: Principal, year: int, within: str | None, *, lock: bool = False
) -> list[tuple[DropoutTarget, dict[DropoutStatus, int]]]:
    """Each county with a target for ``year`` and its register's pupils by status now. With ``lock``, the
    targets are locked until commit, so that concurrent assessments of a county take turns."""
    targets_stmt = listed(select(DropoutTarget), who, DropoutTarget.division_code, within).where(
        DropoutTarget.year == year
    )
    if lock:
        targets_stmt = targets_stmt.with_for_update()
    targets = list((await session.execute(targets_stmt.order_by(DropoutTarget.division_code))).scalars())
    if not targets:
        return []
    # Only the counties of the visible targets: the jurisdiction is the targets'.
    counts = (
        select(DropoutPupil.division_code, DropoutPupil.status, func.count())
        .where(DropoutPupil.division_code.in_([t.division_code for t in targets]))
        .group_by(DropoutPupil.division_code, DropoutPupil.status)
    )
    by_county: dict[str, dict[DropoutStatus, int]] = {}
    for county, status, n in await session.execute(counts):
        by_county.setdefault(county, {})[status] = n
    return [(t, by_county.get(t.division_code, {})) for t in targets]


async def assessed_counties(
    session: AsyncSession, who: Principal, year: int, counties: list[str]
) -> set[str]:
    stmt = visible_to(select(DropoutAssessment.division_code), who, DropoutAssessment.division_code).where(
        DropoutAssessment.year == year, DropoutAssessment.division_code.in_(counties)
    )
    return set((await session.execute(stmt)).scalars())


def add_assessments(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    uow.insert(ASSESSMENTS, rows)


async def page_assessments(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
) -> Sequence[DropoutAssessment]:
    stmt = listed(select(DropoutAssessment), who, DropoutAssessment.division_code, within)
    stmt = pagination.page(
        stmt, DropoutAssessment.id, after=after, limit=limit, equal=[(DropoutAssessment.year, year)]
    )
    return (await session.execute(stmt)).scalars().all()


async def governments(
    session: AsyncSession, who: Principal, counties: list[str]
) -> dict[str, SupervisedUnitRecord]:
    """The registered people's governments of these counties: the units answerable for their rates."""
    if not counties:
        return {}
    stmt = visible_to(select(SupervisedUnitRecord), who, SupervisedUnitRecord.division_code).where(
        SupervisedUnitRecord.kind == SupervisedUnitKind.GOVERNMENT,
        SupervisedUnitRecord.division_code.in_(counties),
    )
    return {unit.division_code: unit for unit in (await session.execute(stmt)).scalars()}
