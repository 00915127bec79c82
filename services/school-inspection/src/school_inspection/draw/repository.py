"""Every query about draws, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from school_inspection.draw.models import Draw
from school_inspection.school.models import School, SchoolType


async def school_pool(
    session: AsyncSession, prefix: str, school_types: Sequence[SchoolType] | None
) -> list[UUID]:
    """The ids of the schools under ``prefix``, ascending (the order the draw shuffles)."""
    stmt = (
        select(School.id).where(School.division_code.startswith(prefix, autoescape=True)).order_by(School.id)
    )
    if school_types:
        stmt = stmt.where(School.school_type.in_(school_types))
    return list((await session.execute(stmt)).scalars())


async def add(session: AsyncSession, draw: Draw) -> Draw:
    session.add(draw)
    await session.flush()
    return draw


async def page(session: AsyncSession, who: Principal, *, after: UUID | None, limit: int) -> list[Draw]:
    stmt = visible_to(select(Draw), who, Draw.division_code).order_by(Draw.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Draw.id > after)
    return list((await session.execute(stmt)).scalars())
