"""Every query about schools, always through the jurisdiction helper."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.db import unique_violation
from dudao.jurisdiction import visible_to
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
    stmt = visible_to(select(School), who, School.division_code)
    if within:
        stmt = stmt.where(School.division_code.startswith(within, autoescape=True))
    if updated_since is not None:
        # Mobile sync walks (updated_at, id) so that rows changed in the same instant are not skipped.
        stmt = stmt.where(School.updated_at >= updated_since).order_by(School.updated_at, School.id)
        if after is not None:
            anchor = select(School.updated_at).where(School.id == after).scalar_subquery()
            stmt = stmt.where(tuple_(School.updated_at, School.id) > tuple_(anchor, after))
    else:
        stmt = stmt.order_by(School.id)
        if after is not None:
            stmt = stmt.where(School.id > after)
    return list((await session.execute(stmt.limit(limit))).scalars())
