"""Every query about upward filing, always through the jurisdiction helper (a filing is the filing
office's record, so the office above sees it within its jurisdiction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import RowMapping, Table, and_, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.filing.models import Filing, FilingKind, FilingMissingNoticed
from governance.office.models import SupervisionOffice

TABLE = cast(Table, Filing.__table__)
MISSING = cast(Table, FilingMissingNoticed.__table__)
WORK_PLAN_FILED = "uq_filing_work_plan"


def add(uow: UnitOfWork, filing: Mapping[str, Any], *, work_plan_filed: DomainError) -> None:
    uow.insert(TABLE, [filing], violations={WORK_PLAN_FILED: work_plan_filed})


def change(uow: UnitOfWork, filing: Mapping[str, Any]) -> None:
    """The filing's new columns (locked by the service's ``get(for_update=True)``)."""
    uow.update(TABLE, [filing])


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    kind: FilingKind | None,
    superior_division: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = listed(select(*TABLE.c), who, Filing.division_code, within)
    stmt = pagination.page(
        stmt,
        Filing.id,
        after=after,
        limit=limit,
        equal=[(Filing.year, year), (Filing.kind, kind), (Filing.superior_division, superior_division)],
        updated_at=Filing.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()


async def overview(
    session: AsyncSession, who: Principal, superior_division: str, year: int
) -> list[tuple[Any, ...]]:
    """One query: the recorded offices that file with ``superior_division``, with the year's filings
    counted by kind and status (an office without any has one row of NULL kind)."""
    offices = visible_to(select(SupervisionOffice.id), who, SupervisionOffice.division_code)
    stmt = (
        offices.add_columns(
            SupervisionOffice.division_code,
            SupervisionOffice.name,
            Filing.kind,
            Filing.status,
            func.count(Filing.id),
        )
        .outerjoin(Filing, and_(Filing.office_id == SupervisionOffice.id, Filing.year == year))
        .where(SupervisionOffice.superior_division == superior_division)
        .group_by(SupervisionOffice.id, Filing.kind, Filing.status)
    )
    return [tuple(row) for row in await session.execute(stmt)]


async def claim_missing_work_plans(
    session: AsyncSession, year: int, due_on: date, now: datetime
) -> list[tuple[Any, ...]]:
    """Claim, once, every recorded office below the region that has filed no work plan for ``year``:
    one INSERT … SELECT … ON CONFLICT DO NOTHING, so of any number of schedulers each claim lands once.
    The claimed rows come back."""
    filed = exists().where(
        Filing.office_id == SupervisionOffice.id, Filing.year == year, Filing.kind == FilingKind.WORK_PLAN
    )
    missing = select(
        SupervisionOffice.division_code,
        literal(year),
        literal(FilingKind.WORK_PLAN.value),
        SupervisionOffice.superior_division,
        literal(due_on),
        literal(now),
    ).where(SupervisionOffice.superior_division.is_not(None), ~filed)
    columns = ["division_code", "year", "kind", "superior_division", "due_on", "noticed_at"]
    stmt = (
        insert(FilingMissingNoticed)
        .from_select(columns, missing)
        .on_conflict_do_nothing()
        .returning(
            FilingMissingNoticed.division_code,
            FilingMissingNoticed.superior_division,
            FilingMissingNoticed.year,
            FilingMissingNoticed.due_on,
        )
    )
    return [tuple(row) for row in await session.execute(stmt)]
