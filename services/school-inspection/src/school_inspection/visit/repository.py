"""Every query about visits, the visit policy and the schools behind it, through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import listed, visible_to
from dudao.policies import in_force
from school_inspection.school.models import School
from school_inspection.visit.models import Checkpoint, Visit, VisitKind, VisitPolicy, VisitsBehind

S = TypeVar("S", bound=Select[Any])


def _with_details(stmt: S) -> S:
    return stmt.options(selectinload(Visit.team), selectinload(Visit.items))


async def add(session: AsyncSession, visit: Visit) -> Visit:
    session.add(visit)
    await session.flush()
    return visit


async def get_visible(session: AsyncSession, who: Principal, visit_id: UUID) -> Visit | None:
    stmt = visible_to(select(Visit), who, Visit.division_code).where(Visit.id == visit_id)
    return (await session.execute(_with_details(stmt))).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    school_id: UUID | None,
    kind: VisitKind | None,
    within: str | None,
    updated_since: datetime | None,
) -> list[Visit]:
    stmt = listed(select(Visit), who, Visit.division_code, within)
    if school_id is not None:
        stmt = stmt.where(Visit.school_id == school_id)
    if kind is not None:
        stmt = stmt.where(Visit.kind == kind)
    stmt = pagination.page(
        stmt, Visit.id, after=after, limit=limit, updated_at=Visit.updated_at, updated_since=updated_since
    )
    return list((await session.execute(_with_details(stmt))).scalars())


# The policy -----------------------------------------------------------------------------------------------


async def policies(session: AsyncSession) -> list[VisitPolicy]:
    """Every policy row, shortest prefix first (there are a handful)."""
    stmt = select(VisitPolicy).order_by(func.length(VisitPolicy.division_prefix), VisitPolicy.division_prefix)
    return list((await session.execute(stmt)).scalars())


async def effective_policy(session: AsyncSession, division_code: str) -> VisitPolicy:
    """The row with the longest prefix of ``division_code``; the migration seeds the empty prefix."""
    stmt = in_force(select(VisitPolicy), VisitPolicy.division_prefix, division_code)
    return (await session.execute(stmt)).scalar_one()


# Schools behind the policy --------------------------------------------------------------------------------


async def lock_behind(
    session: AsyncSession,
    *,
    prefix: str,
    except_prefixes: Sequence[str],
    semester: str,
    checkpoint: Checkpoint,
    counted_from: datetime,
    counted_before: datetime,
    needed: int,
    limit: int,
) -> list[tuple[School, int]]:
    """Schools under ``prefix`` (not under a more specific policy's) registered before the semester, with
    fewer than ``needed`` routine visits in the window and no fact yet for this checkpoint; with their
    visit counts. Replicas skip each other's rows, and the lock lets visits still be recorded."""
    visits = (
        select(func.count())
        .where(
            Visit.school_id == School.id,
            Visit.kind == VisitKind.ROUTINE,
            Visit.started_at >= counted_from,
            Visit.started_at < counted_before,
        )
        .scalar_subquery()
    )
    noticed = exists().where(
        VisitsBehind.school_id == School.id,
        VisitsBehind.semester == semester,
        VisitsBehind.checkpoint == checkpoint,
    )
    stmt = select(School, visits).where(
        School.division_code.startswith(prefix, autoescape=True),
        School.created_at < counted_from,
        visits < needed,
        ~noticed,
    )
    if except_prefixes:
        stmt = stmt.where(
            ~or_(*(School.division_code.startswith(p, autoescape=True) for p in except_prefixes))
        )
    stmt = stmt.order_by(School.id).limit(limit).with_for_update(of=School, skip_locked=True, key_share=True)
    return [(school, count) for school, count in await session.execute(stmt)]


async def claim_behind(session: AsyncSession, fact: VisitsBehind) -> bool:
    """True the first time this (school, semester, checkpoint) is noticed."""
    values = {c.key: getattr(fact, c.key) for c in VisitsBehind.__table__.columns}
    stmt = insert(VisitsBehind).values(values).on_conflict_do_nothing().returning(VisitsBehind.id)
    return (await session.execute(stmt)).first() is not None


async def behind_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    semester: str | None,
    checkpoint: Checkpoint | None,
) -> list[VisitsBehind]:
    stmt = listed(select(VisitsBehind), who, VisitsBehind.division_code, within).order_by(VisitsBehind.id)
    if semester is not None:
        stmt = stmt.where(VisitsBehind.semester == semester)
    if checkpoint is not None:
        stmt = stmt.where(VisitsBehind.checkpoint == checkpoint)
    if after is not None:
        stmt = stmt.where(VisitsBehind.id > after)
    stmt = stmt.options(selectinload(VisitsBehind.school)).limit(limit)
    return list((await session.execute(stmt)).scalars())
