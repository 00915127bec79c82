"""Every query of the school roster."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from monitoring.roster.models import RosterSchool


async def upsert(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert or refresh a school; an older version never overwrites a newer one."""
    stmt = insert(RosterSchool).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[RosterSchool.school_id],
        set_={k: stmt.excluded[k] for k in values if k != "school_id"},
        where=RosterSchool.source_version < stmt.excluded.source_version,
    )
    await session.execute(stmt)


async def page(
    session: AsyncSession, who: Principal, *, after: UUID | None, limit: int
) -> list[RosterSchool]:
    stmt = visible_to(select(RosterSchool), who, RosterSchool.division_code).order_by(RosterSchool.school_id)
    if after is not None:
        stmt = stmt.where(RosterSchool.school_id > after)
    return list((await session.execute(stmt.limit(limit))).scalars())
