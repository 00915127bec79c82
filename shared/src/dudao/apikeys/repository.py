"""Every query of the key registry."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.common.models import ApiKey
from dudao.jurisdiction import visible_to


async def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return (await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))).scalar_one_or_none()


async def page(
    session: AsyncSession, who: Principal, *, after: UUID | None, limit: int, include_revoked: bool
) -> list[ApiKey]:
    stmt = visible_to(select(ApiKey), who, ApiKey.division_code).order_by(ApiKey.id).limit(limit)
    if after is not None:
        stmt = stmt.where(ApiKey.id > after)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list((await session.execute(stmt)).scalars())


async def touch(session: AsyncSession, key_ids: list[UUID], when: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id.in_(key_ids)).values(last_used_at=when))
