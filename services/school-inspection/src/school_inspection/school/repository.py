"""Every query about schools, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ARRAY, String, Table, any_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.db import unique_violation
from dudao.jurisdiction import visible_to
from school_inspection.queries import listed, walk
from school_inspection.school.models import School


async def add(session: AsyncSession, school: School) -> School | None:
    """The school, or None if its school code is taken (the unique constraint decides, race-free)."""
    session.add(school)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc, "uq_school_school_code"):
            return None
        raise
    return school


async def get_visible(
    session: AsyncSession, who: Principal, school_id: UUID, *, for_update: bool = False
) -> School | None:
    stmt = visible_to(select(School), who, School.division_code).where(School.id == school_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> list[School]:
    stmt = listed(select(School), who, School.division_code, within)
    stmt = walk(stmt, School.id, School.updated_at, after=after, updated_since=updated_since)
    return list((await session.execute(stmt.limit(limit))).scalars())


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


def _columns(school: School) -> dict[str, Any]:
    return {c.key: getattr(school, c.key) for c in School.__table__.columns}


async def insert_many(session: AsyncSession, schools: list[School]) -> None:
    """One multi-row INSERT per batch of value carriers (they are not added to the session)."""
    await session.execute(insert(School), [_columns(s) for s in schools])


async def update_many(session: AsyncSession, schools: list[School]) -> None:
    """One executemany UPDATE by id; the rows were locked by ``lock_by_codes``, so versions hold."""
    table = cast(Table, School.__table__)
    stmt = update(table).where(table.c.id == bindparam("_id"))
    rows = [{**{k: v for k, v in _columns(s).items() if k not in _FIXED}, "_id": s.id} for s in schools]
    await session.execute(stmt, rows)


_FIXED = frozenset({"id", "school_code", "division_code", "created_at"})


async def stream_visible(session: AsyncSession, who: Principal, within: str | None) -> AsyncIterator[School]:
    stmt = listed(select(School), who, School.division_code, within)
    stmt = stmt.order_by(School.division_code, School.school_code)
    result = await session.stream_scalars(stmt.execution_options(yield_per=1_000))
    async for school in result:
        yield school
