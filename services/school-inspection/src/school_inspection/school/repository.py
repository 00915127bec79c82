"""Every query about schools, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ARRAY, RowMapping, String, Table, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed
from dudao.uow import UnitOfWork
from school_inspection.school.models import School

_TABLE = cast(Table, School.__table__)


def add(uow: UnitOfWork, school: dict[str, Any], *, code_taken: DomainError) -> None:
    """Hand the school's row to the unit of work; a taken school code is ``code_taken`` when it is written
    (the unique constraint decides, race-free)."""
    uow.insert(_TABLE, [school], violations={"uq_school_school_code": code_taken})


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    """Plain rows, not ORM objects: a page is read, never changed, and hydrating it was most of its cost."""
    stmt = listed(select(*_TABLE.c), who, School.division_code, within)
    stmt = pagination.page(
        stmt, School.id, after=after, limit=limit, updated_at=School.updated_at, updated_since=updated_since
    )
    return (await session.execute(stmt)).mappings().all()


async def lock_by_codes(session: AsyncSession, codes: list[str]) -> dict[str, School]:
    """Schools with these codes anywhere (an import must see codes taken elsewhere), locked until commit.

    One array parameter rather than one per code: an IN list of 10,000+ codes would pass the server's
    limit of 32,767 parameters.
    """
    if not codes:
        return {}
    stmt = (
        select(School)
        .where(School.school_code == any_(bindparam("codes", codes, type_=ARRAY(String))))
        .with_for_update()
    )
    return {s.school_code: s for s in (await session.execute(stmt)).scalars()}


_FIXED = frozenset({"school_code", "division_code", "created_at"})


def columns(school: School) -> dict[str, Any]:
    """A school's row, as the table's columns."""
    return {c.key: getattr(school, c.key) for c in _TABLE.columns}


def insert_many(uow: UnitOfWork, schools: list[dict[str, Any]]) -> None:
    """One statement, however many."""
    uow.insert(_TABLE, schools)


def update_many(uow: UnitOfWork, schools: list[dict[str, Any]]) -> None:
    """One statement by id; the rows were locked by ``lock_by_codes``, so the versions hold."""
    uow.update(_TABLE, [{k: v for k, v in s.items() if k not in _FIXED} for s in schools])


async def stream_visible(session: AsyncSession, who: Principal, within: str | None) -> AsyncIterator[School]:
    stmt = listed(select(School), who, School.division_code, within)
    stmt = stmt.order_by(School.division_code, School.school_code)
    result = await session.stream_scalars(stmt.execution_options(yield_per=1_000))
    async for school in result:
        yield school
