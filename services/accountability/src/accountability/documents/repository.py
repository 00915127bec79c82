"""Every query about documents, their numbers and the issuing offices."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from accountability.documents.models import (
    AccountabilityDecision,
    Circular,
    DecisionStatus,
    Document,
    DocumentKind,
)
from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to

DETAILS = (
    selectinload(Document.urging_order),
    selectinload(Document.interview),
    selectinload(Document.circular),
    selectinload(Document.decision),
)


def _visible(who: Principal) -> Select[Document]:
    stmt = select(Document).options(*DETAILS)
    return visible_to(stmt, who, Document.division_code, Document.unit_id, Document.competent_department)


async def get_visible(
    session: AsyncSession, who: Principal, document_id: UUID, *, for_update: bool = False
) -> Document | None:
    stmt = _visible(who).where(Document.id == document_id)
    if for_update:
        stmt = stmt.with_for_update(of=Document)
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    kind: DocumentKind | None,
    case_id: UUID | None,
    unit_id: str | None,
) -> list[Document]:
    stmt = pagination.page(
        _visible(who),
        Document.id,
        after=after,
        limit=limit,
        equal=[(Document.kind, kind), (Document.case_id, case_id), (Document.unit_id, unit_id)],
    )
    return list((await session.execute(stmt)).scalars())


def _public() -> Select[Document]:
    """Published circulars, and accountability decisions that were decided and published."""
    return (
        select(Document)
        .options(selectinload(Document.circular), selectinload(Document.decision))
        .outerjoin(Circular, Circular.document_id == Document.id)
        .outerjoin(AccountabilityDecision, AccountabilityDecision.document_id == Document.id)
        .where(
            Document.number.is_not(None),
            or_(
                and_(Document.kind == DocumentKind.CIRCULAR, Circular.published.is_(True)),
                and_(
                    Document.kind == DocumentKind.ACCOUNTABILITY_DECISION,
                    AccountabilityDecision.status == DecisionStatus.DECIDED,
                    AccountabilityDecision.published.is_(True),
                ),
            ),
        )
    )


async def get_public(session: AsyncSession, document_id: UUID) -> Document | None:
    return (await session.execute(_public().where(Document.id == document_id))).scalar_one_or_none()


async def public_page(
    session: AsyncSession, *, after: UUID | None, limit: int, kind: DocumentKind | None, within: str | None
) -> list[Document]:
    """Public documents, newest first, of ``kind`` and under the division-code prefix ``within``."""
    stmt = _public()
    if within:
        stmt = stmt.where(Document.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(
        stmt, Document.id, after=after, limit=limit, equal=[(Document.kind, kind)], newest_first=True
    )
    return list((await session.execute(stmt)).scalars())
