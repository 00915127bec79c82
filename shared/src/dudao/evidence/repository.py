"""Every query of evidence files, always through the jurisdiction helper."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.evidence.models import EvidenceFile
from dudao.jurisdiction import visible_to

_COLUMNS = [c.key for c in EvidenceFile.__table__.columns]


async def add(session: AsyncSession, evidence: EvidenceFile) -> None:
    await session.execute(insert(EvidenceFile).values({c: getattr(evidence, c) for c in _COLUMNS}))


async def count_visible(session: AsyncSession, who: Principal, ids: list[UUID]) -> int:
    stmt = visible_to(select(func.count()).select_from(EvidenceFile), who, EvidenceFile.division_code)
    return (await session.execute(stmt.where(EvidenceFile.id.in_(ids)))).scalar_one()
