"""Every query of findings and rectifications, always through the jurisdiction helper."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao.auth.principal import Principal, Role
from dudao.jurisdiction import visible_to
from dudao.rectification.models import (
    EvidenceFile,
    Finding,
    Rectification,
    RectificationReminder,
    RectificationStatus,
    RectificationStep,
)

S = TypeVar("S", bound=Select[Any])


def _visible(stmt: S, who: Principal) -> S:
    """Offices and inspectors see their jurisdiction; a supervised unit sees only its own rectifications
    and those it answers for as competent department."""
    stmt = visible_to(stmt, who, Rectification.division_code)
    if who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.MEMBER_UNIT):
        return stmt
    return stmt.where(or_(Rectification.unit_id == who.org, Rectification.competent_department == who.org))


async def add(session: AsyncSession, finding: Finding, rectification: Rectification) -> Rectification:
    session.add_all([finding, rectification])
    await session.flush()
    return rectification


async def get_visible(
    session: AsyncSession,
    who: Principal,
    rectification_id: UUID,
    *,
    for_update: bool = False,
    with_history: bool = False,
) -> Rectification | None:
    stmt = _visible(select(Rectification), who).where(Rectification.id == rectification_id)
    stmt = stmt.options(selectinload(Rectification.finding))
    if with_history:
        stmt = stmt.options(
            selectinload(Rectification.reports),
            selectinload(Rectification.steps),
            selectinload(Rectification.rechecks),
        )
    if for_update:
        stmt = stmt.with_for_update(of=Rectification)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_for_event(session: AsyncSession, rectification_id: UUID) -> Rectification | None:
    """For consumers, which act for the system: no principal, the row locked."""
    stmt = (
        select(Rectification)
        .where(Rectification.id == rectification_id)
        .options(selectinload(Rectification.finding))
        .with_for_update(of=Rectification)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    status: RectificationStatus | None,
    unit_id: str | None,
    overdue: bool | None,
    updated_since: datetime | None,
) -> list[Rectification]:
    stmt = _visible(select(Rectification), who).order_by(Rectification.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Rectification.id > after)
    if status is not None:
        stmt = stmt.where(Rectification.status == status)
    if unit_id is not None:
        stmt = stmt.where(Rectification.unit_id == unit_id)
    if overdue is not None:
        is_overdue = (Rectification.status != RectificationStatus.CLOSED) & (
            Rectification.overdue_deadline == Rectification.deadline
        )
        stmt = stmt.where(is_overdue if overdue else ~is_overdue)
    if updated_since is not None:
        stmt = stmt.where(Rectification.updated_at >= updated_since)
    return list((await session.execute(stmt)).scalars())


async def lock_overdue(session: AsyncSession, today: date, limit: int) -> list[Rectification]:
    """Open rectifications past their deadline whose overdue fact is not out; replicas skip each other's."""
    stmt = (
        select(Rectification)
        .where(
            Rectification.status == RectificationStatus.OPEN,
            Rectification.deadline < today,
            or_(
                Rectification.overdue_deadline.is_(None),
                Rectification.overdue_deadline != Rectification.deadline,
            ),
        )
        .options(selectinload(Rectification.finding))
        .order_by(Rectification.deadline)
        .limit(limit)
        .with_for_update(of=Rectification, skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def lock_due_soon(
    session: AsyncSession, today: date, days_before: int, limit: int
) -> list[Rectification]:
    """Open rectifications due within ``days_before`` days whose reminder for that many days is not sent."""
    sent = select(RectificationReminder.rectification_id).where(
        RectificationReminder.rectification_id == Rectification.id,
        RectificationReminder.deadline == Rectification.deadline,
        RectificationReminder.days_before == days_before,
    )
    stmt = (
        select(Rectification)
        .where(
            Rectification.status == RectificationStatus.OPEN,
            Rectification.deadline >= today,
            Rectification.deadline <= today + timedelta(days=days_before),
            ~sent.exists(),
        )
        .options(selectinload(Rectification.finding))
        .order_by(Rectification.deadline)
        .limit(limit)
        .with_for_update(of=Rectification, skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def claim_reminder(
    session: AsyncSession, rectification_id: UUID, deadline: date, days_before: int, now: datetime
) -> bool:
    """True the first time this reminder is claimed for this deadline."""
    stmt = (
        insert(RectificationReminder)
        .values(rectification_id=rectification_id, deadline=deadline, days_before=days_before, sent_at=now)
        .on_conflict_do_nothing()
        .returning(RectificationReminder.days_before)
    )
    return (await session.execute(stmt)).first() is not None


async def record_step(session: AsyncSession, step: RectificationStep) -> bool:
    """Record a step once; False when this step was already recorded."""
    stmt = (
        insert(RectificationStep)
        .values(
            id=step.id,
            rectification_id=step.rectification_id,
            case_id=step.case_id,
            step_id=step.step_id,
            step_index=step.step_index,
            step_kind=step.step_kind,
            reason=step.reason,
            document_number=step.document_number,
            new_deadline=step.new_deadline,
            taken_at=step.taken_at,
        )
        .on_conflict_do_nothing(index_elements=[RectificationStep.step_id])
        .returning(RectificationStep.id)
    )
    return (await session.execute(stmt)).first() is not None


async def provisional_in_year(session: AsyncSession, year: int, limit: int) -> list[Rectification]:
    stmt = (
        select(Rectification)
        .where(
            Rectification.provisional_deadline.is_(True),
            Rectification.status != RectificationStatus.CLOSED,
            Rectification.deadline >= date(year, 1, 1),
            Rectification.deadline <= date(year, 12, 31),
        )
        .options(selectinload(Rectification.finding))
        .order_by(Rectification.id)
        .limit(limit)
        .with_for_update(of=Rectification, skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def add_evidence(session: AsyncSession, evidence: EvidenceFile) -> EvidenceFile:
    session.add(evidence)
    await session.flush()
    return evidence


async def get_evidence_visible(
    session: AsyncSession, who: Principal, evidence_id: UUID
) -> EvidenceFile | None:
    stmt = visible_to(select(EvidenceFile), who, EvidenceFile.division_code).where(
        EvidenceFile.id == evidence_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_visible_evidence(session: AsyncSession, who: Principal, ids: list[UUID]) -> int:
    stmt = visible_to(select(EvidenceFile.id), who, EvidenceFile.division_code).where(
        EvidenceFile.id.in_(ids)
    )
    return len((await session.execute(stmt)).all())
