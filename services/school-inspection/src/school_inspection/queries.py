"""Query idioms the domains of this service share: lists within a jurisdiction, the mobile-sync walk, and
policy rows by jurisdiction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from school_inspection.inspector.models import InspectionPolicy
from school_inspection.visit.models import VisitPolicy

S = TypeVar("S", bound=Select[Any])
Policy = TypeVar("Policy", InspectionPolicy, VisitPolicy)


def listed(stmt: S, who: Principal, division_code: InstrumentedAttribute[str], within: str | None) -> S:
    """``stmt`` within the caller's jurisdiction and, with ``within``, under that division-code prefix."""
    stmt = visible_to(stmt, who, division_code)
    return stmt.where(division_code.startswith(within, autoescape=True)) if within else stmt


def in_force(stmt: S, division_prefix: Any, division_code: Any) -> S:
    """``stmt`` narrowed to the policy row with the longest ``division_prefix`` of ``division_code`` (a
    value or a correlated column); a row for the empty prefix matches everywhere."""
    return (
        stmt.where(func.starts_with(division_code, division_prefix))
        .order_by(func.length(division_prefix).desc())
        .limit(1)
    )


async def policy_row(session: AsyncSession, model: type[Policy], division_prefix: str) -> Policy | None:
    """A jurisdiction's own policy row, locked for its change."""
    stmt = select(model).where(model.division_prefix == division_prefix).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


def walk(
    stmt: S,
    id_: InstrumentedAttribute[UUID],
    updated_at: InstrumentedAttribute[datetime],
    *,
    after: UUID | None,
    updated_since: datetime | None,
) -> S:
    """``stmt`` in id order from the cursor; with ``updated_since``, the rows changed since, for syncing."""
    if updated_since is None:
        stmt = stmt.order_by(id_)
        return stmt if after is None else stmt.where(id_ > after)
    # Mobile sync walks (updated_at, id) so that rows changed in the same instant are not skipped.
    stmt = stmt.where(updated_at >= updated_since).order_by(updated_at, id_)
    if after is not None:
        anchor = select(updated_at).where(id_ == after).scalar_subquery()
        stmt = stmt.where(tuple_(updated_at, id_) > tuple_(anchor, after))
    return stmt
