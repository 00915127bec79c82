"""Every query about supervision offices, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import RowMapping, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.office.models import SupervisionOffice

TABLE = cast(Table, SupervisionOffice.__table__)
# The constraints a write of an office can break.
DIVISION_TAKEN, ABBREVIATION_TAKEN = (
    "uq_supervision_office_division_code",
    "uq_supervision_office_abbreviation",
)


def add(uow: UnitOfWork, office: Mapping[str, Any], *, violations: Mapping[str, DomainError]) -> None:
    """Written at commit; the unique constraints decide a taken division or abbreviation, race-free."""
    uow.insert(TABLE, [office], violations=violations)


def change(uow: UnitOfWork, office: Mapping[str, Any], *, violations: Mapping[str, DomainError]) -> None:
    """The office's new columns (its row is locked by the service's ``get(for_update=True)``); the unique
    constraints decide a taken abbreviation when written."""
    uow.update(TABLE, [office], violations=violations)


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = listed(select(*TABLE.c), who, SupervisionOffice.division_code, within)
    stmt = pagination.page(
        stmt,
        SupervisionOffice.id,
        after=after,
        limit=limit,
        updated_at=SupervisionOffice.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()


async def of_division(session: AsyncSession, who: Principal, division_code: str) -> SupervisionOffice | None:
    stmt = visible_to(select(SupervisionOffice), who, SupervisionOffice.division_code)
    return (
        await session.execute(stmt.where(SupervisionOffice.division_code == division_code))
    ).scalar_one_or_none()
