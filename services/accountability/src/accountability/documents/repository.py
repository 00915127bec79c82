"""Every query about documents, their numbers and the issuing offices."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from accountability import listing
from accountability.documents.models import (
    AccountabilityDecision,
    Circular,
    DecisionStatus,
    Document,
    DocumentKind,
    DocumentSequence,
    IssuingOffice,
)
from accountability.scope import visible
from dudao.auth.principal import Principal
from dudao.common.models import DivisionRow
from dudao.divisions.tree import load_tree

DETAILS = (
    selectinload(Document.urging_order),
    selectinload(Document.interview),
    selectinload(Document.circular),
    selectinload(Document.decision),
)


def _visible(who: Principal) -> Select[Document]:
    stmt = select(Document).options(*DETAILS)
    return visible(stmt, who, Document.division_code, Document.unit_id, Document.competent_department)


async def add(session: AsyncSession, document: Document) -> Document:
    session.add(document)
    await session.flush()
    return document


async def next_serial(session: AsyncSession, office_division: str, kind: DocumentKind, year: int) -> int:
    """The next serial of the office's ``kind`` documents in ``year``.

    The upsert locks the sequence row until the transaction ends: concurrent issuers queue behind it,
    and a transaction that rolls back takes its increment with it, so the numbers have no gaps.
    """
    stmt = (
        insert(DocumentSequence)
        .values(office_division=office_division, kind=kind, year=year, last_serial=1)
        .on_conflict_do_update(
            index_elements=[DocumentSequence.office_division, DocumentSequence.kind, DocumentSequence.year],
            set_={"last_serial": DocumentSequence.last_serial + 1},
        )
        .returning(DocumentSequence.last_serial)
    )
    return (await session.execute(stmt)).scalar_one()


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
    stmt = listing.page(
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
    stmt = listing.page(
        stmt, Document.id, after=after, limit=limit, equal=[(Document.kind, kind)], newest_first=True
    )
    return list((await session.execute(stmt)).scalars())


async def division_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """The names of ``codes`` as the deployment seeded them, else the packaged tree's, else the code."""
    rows = await session.execute(
        select(DivisionRow.code, DivisionRow.name).where(DivisionRow.code.in_(codes))
    )
    names: dict[str, str] = {code: name for code, name in rows}
    tree = load_tree()
    for code in codes - names.keys():
        packaged = tree.get(code)
        names[code] = packaged.name if packaged else code
    return names


async def division_name(session: AsyncSession, code: str) -> str:
    """The division's name as the deployment seeded it; the packaged tree's, or the code, until then."""
    name = (await session.execute(select(DivisionRow.name).where(DivisionRow.code == code))).scalar()
    if name is not None:
        return name
    packaged = load_tree().get(code)
    return packaged.name if packaged else code


async def parent_division(session: AsyncSession, code: str) -> str | None:
    """The division's parent as the deployment seeded it; the packaged tree's until then."""
    row = await session.get(DivisionRow, code)
    if row is not None:
        return row.parent_code
    packaged = load_tree().get(code)
    return packaged.parent_code if packaged else None


async def abbreviation(session: AsyncSession, division_code: str) -> IssuingOffice | None:
    return await session.get(IssuingOffice, division_code)


async def save_abbreviation(session: AsyncSession, office: IssuingOffice) -> IssuingOffice:
    merged = await session.merge(office)
    await session.flush()
    return merged
