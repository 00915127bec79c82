"""Every query about principal evaluations (their school was checked visible first)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school_inspection.principal.models import PrincipalEvaluation


async def add(session: AsyncSession, evaluation: PrincipalEvaluation) -> PrincipalEvaluation:
    session.add(evaluation)
    await session.flush()
    return evaluation


async def page_for_school(
    session: AsyncSession, school_id: UUID, *, after: UUID | None, limit: int
) -> list[PrincipalEvaluation]:
    stmt = select(PrincipalEvaluation).where(PrincipalEvaluation.school_id == school_id)
    if after is not None:
        stmt = stmt.where(PrincipalEvaluation.id > after)
    return list((await session.execute(stmt.order_by(PrincipalEvaluation.id).limit(limit))).scalars())
