"""Every query about inspectors, their ledgers, assignments and the inspection policy."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ARRAY, Row, Uuid, any_, bindparam, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeEngine

from dudao.auth.principal import Principal
from dudao.jurisdiction import listed, visible_to
from dudao.policies import in_force
from school_inspection.inspector.models import (
    Assignment,
    ConflictOfInterest,
    Employment,
    InspectionPolicy,
    Inspector,
    InspectorStatus,
    InspectorTerm,
    PerformanceReview,
    TrainingKind,
    TrainingRecord,
)
from school_inspection.school.models import School

Ledger = TypeVar("Ledger", TrainingRecord, ConflictOfInterest, PerformanceReview)


_UUID_ARRAY: TypeEngine[Any] = ARRAY(Uuid())


def _uuid_array(ids: Collection[UUID]) -> BindParameter[list[UUID]]:
    return bindparam(None, list(ids), type_=_UUID_ARRAY)


# --- policy -------------------------------------------------------------------------------------------


def policy_value(threshold: InstrumentedAttribute[int], division_code: Any) -> ColumnElement[int]:
    """One threshold in force for ``division_code``, a value or a correlated column."""
    policy = aliased(InspectionPolicy)
    return in_force(
        select(getattr(policy, threshold.key)), policy.division_prefix, division_code
    ).scalar_subquery()


async def policy_for(session: AsyncSession, division_code: str) -> InspectionPolicy:
    """The policy in force for a division; the seeded row for the empty prefix always matches."""
    stmt = in_force(select(InspectionPolicy), InspectionPolicy.division_prefix, division_code)
    return (await session.execute(stmt)).scalar_one()


async def policy_page(
    session: AsyncSession, who: Principal, *, after: UUID | None, limit: int
) -> list[InspectionPolicy]:
    stmt = visible_to(select(InspectionPolicy), who, InspectionPolicy.division_prefix)
    if after is not None:
        stmt = stmt.where(InspectionPolicy.id > after)
    return list((await session.execute(stmt.order_by(InspectionPolicy.id).limit(limit))).scalars())


# --- inspectors and their ledgers ---------------------------------------------------------------------


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


async def get_visible(
    session: AsyncSession,
    who: Principal,
    inspector_id: UUID,
    *,
    for_update: bool = False,
    with_history: bool = False,
) -> Inspector | None:
    stmt = visible_to(select(Inspector), who, Inspector.division_code).where(Inspector.id == inspector_id)
    if with_history:
        stmt = stmt.options(selectinload(Inspector.steps), selectinload(Inspector.terms))
    if for_update:
        stmt = stmt.with_for_update(of=Inspector)
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    status: InspectorStatus | None,
    employment: Employment | None,
) -> list[Inspector]:
    stmt = listed(select(Inspector), who, Inspector.division_code, within)
    if status is not None:
        stmt = stmt.where(Inspector.status == status)
    if employment is not None:
        stmt = stmt.where(Inspector.employment == employment)
    if after is not None:
        stmt = stmt.where(Inspector.id > after)
    return list((await session.execute(stmt.order_by(Inspector.id).limit(limit))).scalars())


async def ledger_page(
    session: AsyncSession, model: type[Ledger], inspector_id: UUID, *, after: UUID | None, limit: int
) -> list[Ledger]:
    """One of an inspector's ledgers (training, conflicts, reviews), oldest first."""
    stmt = select(model).where(model.inspector_id == inspector_id)
    if after is not None:
        stmt = stmt.where(model.id > after)
    return list((await session.execute(stmt.order_by(model.id).limit(limit))).scalars())


async def visible_among(
    session: AsyncSession, who: Principal, inspector_ids: Collection[UUID]
) -> list[Inspector]:
    """Those of these inspectors ``who`` can see."""
    stmt = visible_to(select(Inspector), who, Inspector.division_code).where(
        Inspector.id == any_(_uuid_array(inspector_ids))
    )
    return list((await session.execute(stmt)).scalars())


def pre_service_trained(inspector_id: UUID | InstrumentedAttribute[UUID]) -> ColumnElement[bool]:
    """The inspector (an id, or a correlated column) has pre-service training (岗前培训) on record."""
    return exists().where(
        TrainingRecord.inspector_id == inspector_id, TrainingRecord.kind == TrainingKind.PRE_SERVICE
    )


def _in_term(inspector_id: UUID | InstrumentedAttribute[UUID], day: date) -> ColumnElement[bool]:
    """A term of the inspector covers ``day``."""
    return exists().where(
        InspectorTerm.inspector_id == inspector_id,
        InspectorTerm.starts_on <= day,
        InspectorTerm.ends_on >= day,
    )


async def has_pre_service_training(session: AsyncSession, inspector_id: UUID) -> bool:
    return bool((await session.execute(select(pre_service_trained(inspector_id)))).scalar_one())


async def term_covers(session: AsyncSession, inspector_id: UUID, day: date) -> bool:
    return bool((await session.execute(select(_in_term(inspector_id, day)))).scalar_one())


async def recused_pairs(
    session: AsyncSession, inspector_ids: Collection[UUID], school_ids: Collection[UUID]
) -> set[tuple[UUID, UUID]]:
    """The (inspector, school) pairs among these that a conflict of interest keeps apart (回避).

    Array parameters, not IN lists: a draw's pools may hold more ids than a statement has parameters.
    """
    stmt = select(ConflictOfInterest.inspector_id, ConflictOfInterest.school_id).where(
        ConflictOfInterest.inspector_id == any_(_uuid_array(inspector_ids)),
        ConflictOfInterest.school_id == any_(_uuid_array(school_ids)),
    )
    return {(inspector, school) for inspector, school in await session.execute(stmt)}


async def draw_pool(session: AsyncSession, division_prefix: str, on: date) -> list[UUID]:
    """The inspectors appointed under ``division_prefix`` who may serve on ``on``, ascending: an announced
    appointment that has not ended, within a current term if part-time, with pre-service training on record.
    """
    stmt = (
        select(Inspector.id)
        .where(
            Inspector.division_code.startswith(division_prefix, autoescape=True),
            Inspector.status == InspectorStatus.APPOINTED,
            or_(Inspector.employment == Employment.FULL_TIME, _in_term(Inspector.id, on)),
            pre_service_trained(Inspector.id),
        )
        .order_by(Inspector.id)
    )
    return list((await session.execute(stmt)).scalars())


async def review_exists(session: AsyncSession, inspector_id: UUID, year: int) -> bool:
    stmt = select(
        exists().where(PerformanceReview.inspector_id == inspector_id, PerformanceReview.year == year)
    )
    return bool((await session.execute(stmt)).scalar_one())


# --- assignments --------------------------------------------------------------------------------------


def current_on(day: date) -> tuple[ColumnElement[bool], ...]:
    """An assignment in force on ``day``."""
    return Assignment.starts_on <= day, or_(Assignment.ends_on.is_(None), Assignment.ends_on >= day)


def _overlapping(start: date, end: date | None) -> tuple[ColumnElement[bool], ...]:
    """An assignment whose period meets [start, end] (an open end runs for ever)."""
    meets_start = or_(Assignment.ends_on.is_(None), Assignment.ends_on >= start)
    return (meets_start,) if end is None else (meets_start, Assignment.starts_on <= end)


async def school_is_covered(session: AsyncSession, school_id: UUID, start: date, end: date | None) -> bool:
    stmt = select(exists().where(Assignment.school_id == school_id, *_overlapping(start, end)))
    return bool((await session.execute(stmt)).scalar_one())


async def held_schools(
    session: AsyncSession, inspector_id: UUID, start: date, end: date | None
) -> list[Row[UUID, str, int, int]]:
    """The schools the inspector is responsible for during [start, end], each with its enrolment and the
    enrolment above which it needs a dedicated inspector."""
    stmt = (
        select(
            School.id,
            School.name,
            School.enrolment,
            policy_value(InspectionPolicy.dedicated_enrolment_threshold, School.division_code).label(
                "dedicated_threshold"
            ),
        )
        .join(Assignment, Assignment.school_id == School.id)
        .where(Assignment.inspector_id == inspector_id, *_overlapping(start, end))
        .order_by(School.id)
    )
    return list((await session.execute(stmt)).all())


async def assignments_from(
    session: AsyncSession, inspector_id: UUID, day: date, *, school_id: UUID | None = None
) -> list[Assignment]:
    """The inspector's assignments in force on ``day`` or later, locked: the ones an ending cuts short."""
    stmt = select(Assignment).where(
        Assignment.inspector_id == inspector_id, or_(Assignment.ends_on.is_(None), Assignment.ends_on >= day)
    )
    if school_id is not None:
        stmt = stmt.where(Assignment.school_id == school_id)
    return list((await session.execute(stmt.order_by(Assignment.id).with_for_update())).scalars())


async def delete(session: AsyncSession, row: object) -> None:
    await session.delete(row)
    await session.flush()


async def assignment_page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    school_id: UUID | None,
    inspector_id: UUID | None,
    current_day: date | None,
) -> list[Assignment]:
    stmt = visible_to(select(Assignment), who, Assignment.division_code)
    if school_id is not None:
        stmt = stmt.where(Assignment.school_id == school_id)
    if inspector_id is not None:
        stmt = stmt.where(Assignment.inspector_id == inspector_id)
    if current_day is not None:
        stmt = stmt.where(*current_on(current_day))
    if after is not None:
        stmt = stmt.where(Assignment.id > after)
    return list((await session.execute(stmt.order_by(Assignment.id).limit(limit))).scalars())


async def responsible_inspector(session: AsyncSession, school_id: UUID, on: date) -> Inspector | None:
    """The school's responsible inspector on ``on``, for the plate (a public read: no principal)."""
    stmt = (
        select(Inspector)
        .join(Assignment, Assignment.inspector_id == Inspector.id)
        .where(
            Assignment.school_id == school_id,
            Inspector.status == InspectorStatus.APPOINTED,
            *current_on(on),
        )
        .order_by(Assignment.starts_on.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
