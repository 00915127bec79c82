"""Every query of the school roster."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from dudao.uow import UnitOfWork
from monitoring.roster.models import RosterSchool

_TABLE = cast(Table, RosterSchool.__table__)


def upsert(uow: UnitOfWork, schools: list[dict[str, Any]]) -> None:
    """Insert or refresh schools, with one statement; an older version never overwrites a newer one."""
    uow.upsert(_TABLE, schools, keys=["school_id"], only_newer="source_version")


async def page(
    session: AsyncSession, who: Principal, *, after: UUID | None, limit: int
) -> list[RosterSchool]:
    stmt = visible_to(select(RosterSchool), who, RosterSchool.division_code).order_by(RosterSchool.school_id)
    if after is not None:
        stmt = stmt.where(RosterSchool.school_id > after)
    return list((await session.execute(stmt.limit(limit))).scalars())
