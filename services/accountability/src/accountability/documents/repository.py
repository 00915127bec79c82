"""Every query about documents, their numbers and the issuing offices."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from sqlalchemy import ARRAY, Integer, Select, String, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from accountability.documents.models import (
    ISSUING_OFFICES,
    SEQUENCES,
    AccountabilityDecision,
    Circular,
    DecisionStatus,
    Document,
    DocumentKind,
    IssuingOffice,
)
from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to

# A document number's series: its office, kind and business year.
SerialKey = tuple[str, DocumentKind, int]

DETAILS = (
    selectinload(Document.urging_order),
    selectinload(Document.interview),
    selectinload(Document.circular),
    selectinload(Document.decision),
)


def _visible(who: Principal) -> Select[Document]:
    stmt = select(Document).options(*DETAILS)
    return visible_to(stmt, who, Document.division_code, Document.unit_id, Document.competent_department)


async def reserve_serials(
    session: AsyncSession, wanted: Mapping[SerialKey, int]
) -> dict[SerialKey, tuple[int, str | None]]:
    """Reserve ``wanted[key]`` serials per office, kind and year in one statement: for each key the last
    serial reserved (the batch numbers ``last - n + 1 … last``) and the office's own abbreviation.

    The upsert locks each sequence row until the transaction ends: concurrent issuers queue behind it, in
    the order of the keys (so two batches never wait for each other crosswise), and a transaction that
    rolls back takes its increments with it, so the numbers have no gaps.
    """
    keys = sorted(wanted)
    source = (
        func.unnest(
            bindparam("offices", [k[0] for k in keys], type_=ARRAY(String)),
            bindparam("kinds", [k[1].value for k in keys], type_=ARRAY(String)),
            bindparam("years", [k[2] for k in keys], type_=ARRAY(Integer)),
            bindparam("counts", [wanted[k] for k in keys], type_=ARRAY(Integer)),
        )
        .table_valued("office_division", "kind", "year", "n")
        .render_derived(name="wanted")
    )
    sequence = SEQUENCES
    upsert = insert(sequence).from_select(
        ["office_division", "kind", "year", "last_serial"],
        select(source.c.office_division, source.c.kind, source.c.year, source.c.n).order_by(
            source.c.office_division, source.c.kind, source.c.year
        ),
    )
    reserved = (
        upsert.on_conflict_do_update(
            index_elements=[sequence.c.office_division, sequence.c.kind, sequence.c.year],
            set_={"last_serial": sequence.c.last_serial + upsert.excluded.last_serial},
        )
        .returning(sequence.c.office_division, sequence.c.kind, sequence.c.year, sequence.c.last_serial)
        .cte("reserved")
    )
    office = ISSUING_OFFICES
    stmt = select(reserved, office.c.abbreviation).outerjoin(
        office, office.c.division_code == reserved.c.office_division
    )
    return {
        (row.office_division, DocumentKind(row.kind), row.year): (row.last_serial, row.abbreviation)
        for row in await session.execute(stmt)
    }


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


async def abbreviation(session: AsyncSession, division_code: str) -> IssuingOffice | None:
    return await session.get(IssuingOffice, division_code)


async def save_abbreviation(session: AsyncSession, office: IssuingOffice) -> IssuingOffice:
    merged = await session.merge(office)
    await session.flush()
    return merged
