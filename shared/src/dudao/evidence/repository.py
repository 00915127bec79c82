"""Every query of evidence files, always through the jurisdiction helper."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Select, String, cast, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal, Role
from dudao.common.models import ApiKey
from dudao.evidence.models import EvidenceFile
from dudao.jurisdiction import visible_to

_COLUMNS = [c.key for c in EvidenceFile.__table__.columns]
S = TypeVar("S", bound=Select[Any])


async def add(session: AsyncSession, evidence: EvidenceFile) -> None:
    await session.execute(insert(EvidenceFile).values({c: getattr(evidence, c) for c in _COLUMNS}))


async def get_visible(session: AsyncSession, who: Principal, evidence_id: UUID) -> EvidenceFile | None:
    stmt = _visible(select(EvidenceFile), who).where(EvidenceFile.id == evidence_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_visible(session: AsyncSession, who: Principal, ids: list[UUID]) -> int:
    stmt = _visible(select(func.count()).select_from(EvidenceFile), who)
    return (await session.execute(stmt.where(EvidenceFile.id.in_(ids)))).scalar_one()


def _visible(stmt: S, who: Principal) -> S:
    """Within the jurisdiction and, for an agency, its own files only: its jurisdiction is the county it
    works in, but its commission is not the county's other files (as monitoring's require_commission)."""
    stmt = visible_to(stmt, who, EvidenceFile.division_code)
    if Role.AGENCY in who.roles and not who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR):
        stmt = stmt.where(_uploaded_by(who))
    return stmt


def _uploaded_by(who: Principal) -> ColumnElement[bool]:
    """By ``who`` or, for an API key, by a key it replaced: a rotated key keeps its files."""
    if who.key_id is None:
        return EvidenceFile.uploaded_by == who.sub
    chain = select(ApiKey.id, ApiKey.replaces_id).where(ApiKey.id == UUID(who.key_id)).cte(recursive=True)
    chain = chain.union_all(
        select(ApiKey.id, ApiKey.replaces_id).join(chain, ApiKey.id == chain.c.replaces_id)
    )
    # As the key authenticator names a key's principal (dudao.apikeys.authenticator).
    return EvidenceFile.uploaded_by.in_(select(literal("apikey:") + cast(chain.c.id, String)))
