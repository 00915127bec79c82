"""Every query about ladders, cases, their facts and steps."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from accountability import listing
from accountability.documents.repository import DETAILS
from accountability.escalation.models import (
    CaseFact,
    CaseStatus,
    EscalationCase,
    EscalationLadder,
    EscalationStep,
    VisitsBehindFact,
)
from accountability.scope import visible
from dudao.auth.principal import Principal


async def latest_in_scope(
    session: AsyncSession, category: str | None, prefix: str | None
) -> EscalationLadder | None:
    """The scope's newest version, locked so that two new versions of one scope queue."""
    stmt = (
        select(EscalationLadder)
        .where(
            EscalationLadder.finding_category.is_not_distinct_from(category),
            EscalationLadder.division_prefix.is_not_distinct_from(prefix),
        )
        .order_by(EscalationLadder.version.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_ladder(session: AsyncSession, ladder: EscalationLadder) -> EscalationLadder:
    """Add a version; the older versions of its scope stop applying to new cases."""
    await session.execute(
        update(EscalationLadder)
        .where(
            EscalationLadder.finding_category.is_not_distinct_from(ladder.finding_category),
            EscalationLadder.division_prefix.is_not_distinct_from(ladder.division_prefix),
            EscalationLadder.active,
        )
        .values(active=False)
    )
    session.add(ladder)
    await session.flush()
    return ladder


async def resolve_ladder(session: AsyncSession, category: str, division_code: str) -> EscalationLadder | None:
    """The most specific active ladder: category and prefix, then category, then the longest prefix."""
    stmt = (
        select(EscalationLadder)
        .where(
            EscalationLadder.active,
            or_(EscalationLadder.finding_category.is_(None), EscalationLadder.finding_category == category),
            or_(
                EscalationLadder.division_prefix.is_(None),
                literal(division_code).startswith(EscalationLadder.division_prefix),
            ),
        )
        .order_by(
            EscalationLadder.finding_category.is_(None),  # false, a category's own ladder, sorts first
            func.coalesce(func.length(EscalationLadder.division_prefix), 0).desc(),
            EscalationLadder.version.desc(),
        )
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def ladder_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    category: str | None,
    active: bool | None,
) -> list[EscalationLadder]:
    """Ladders that can apply within the principal's jurisdiction: everywhere, above or inside it."""
    prefix = EscalationLadder.division_prefix
    applies: list[ColumnElement[bool]] = [prefix.is_(None)]
    for jurisdiction in who.jurisdictions:
        applies += [
            prefix.startswith(jurisdiction, autoescape=True),
            literal(jurisdiction).startswith(prefix),
        ]
    stmt = listing.page(
        select(EscalationLadder).where(or_(*applies)),
        EscalationLadder.id,
        after=after,
        limit=limit,
        equal=[(EscalationLadder.finding_category, category), (EscalationLadder.active, active)],
    )
    return list((await session.execute(stmt)).scalars())


async def ensure_case(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the case unless the rectification has one; a concurrent twin waits here, then does nothing."""
    stmt = (
        insert(EscalationCase)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[EscalationCase.origin, EscalationCase.rectification_id])
        .returning(EscalationCase.id)
    )
    return (await session.execute(stmt)).first() is not None


async def lock_case(session: AsyncSession, origin: str, rectification_id: str) -> EscalationCase | None:
    """The case, locked: its facts are applied one at a time, whatever the consumers."""
    stmt = (
        select(EscalationCase)
        .options(selectinload(EscalationCase.ladder))
        .where(EscalationCase.origin == origin, EscalationCase.rectification_id == rectification_id)
        .with_for_update(of=EscalationCase)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def note_fact(session: AsyncSession, fact: dict[str, Any]) -> bool:
    """Record a fact on its case; False if that fact was recorded already."""
    stmt = insert(CaseFact).values(**fact).on_conflict_do_nothing(index_elements=[CaseFact.fact_id])
    return (await session.execute(stmt.returning(CaseFact.id))).first() is not None


async def note_visits_behind(session: AsyncSession, fact: dict[str, Any]) -> UUID | None:
    """Record a school's falling behind; None if that fact was recorded already.

    A concurrent twin of the same fact waits on the unique index, then finds it recorded.
    """
    stmt = (
        insert(VisitsBehindFact)
        .values(**fact)
        .on_conflict_do_nothing(index_elements=[VisitsBehindFact.fact_id])
        .returning(VisitsBehindFact.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_step(session: AsyncSession, step: EscalationStep) -> EscalationStep:
    session.add(step)
    await session.flush()
    return step


def _visible_cases(who: Principal) -> Select[EscalationCase]:
    return visible(
        select(EscalationCase),
        who,
        EscalationCase.division_code,
        EscalationCase.unit_id,
        EscalationCase.competent_department,
    )


async def get_visible_case(
    session: AsyncSession, who: Principal, case_id: UUID, *, for_update: bool = False, detail: bool = False
) -> EscalationCase | None:
    stmt = _visible_cases(who).where(EscalationCase.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    if detail:
        stmt = stmt.options(
            selectinload(EscalationCase.steps).selectinload(EscalationStep.document),
            selectinload(EscalationCase.facts),
            selectinload(EscalationCase.documents).options(*DETAILS),
        )
    return (await session.execute(stmt)).scalar_one_or_none()


async def case_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    status: CaseStatus | None,
    rectification_id: str | None,
    unit_id: str | None,
) -> list[EscalationCase]:
    stmt = listing.page(
        _visible_cases(who),
        EscalationCase.id,
        after=after,
        limit=limit,
        equal=[
            (EscalationCase.status, status),
            (EscalationCase.rectification_id, rectification_id),
            (EscalationCase.unit_id, unit_id),
        ],
    )
    return list((await session.execute(stmt)).scalars())
