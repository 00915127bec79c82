"""Every query of agencies and commissions, always through the jurisdiction helper.

People see what lies in their jurisdiction; an agency's key sees its own agency and the one commission
its key is bound to (``bound``), whatever the divisions: two commissions in one county stay apart.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import Select, Table, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import pagination
from dudao.auth.principal import Principal, Role
from dudao.errors import DomainError
from dudao.jurisdiction import visible_to
from dudao.uow import UnitOfWork
from monitoring.agency.models import (
    Agency,
    AgencyReport,
    Commission,
    CommissionDeliverable,
    CommissionKey,
    DeliverableReview,
    QualityResult,
)
from monitoring.roster.models import RosterSchool

AGENCIES = cast(Table, Agency.__table__)
COMMISSIONS = cast(Table, Commission.__table__)
DELIVERABLES = cast(Table, CommissionDeliverable.__table__)
KEYS = cast(Table, CommissionKey.__table__)
REPORTS = cast(Table, AgencyReport.__table__)
RESULTS = cast(Table, QualityResult.__table__)
REVIEWS = cast(Table, DeliverableReview.__table__)

S = TypeVar("S", bound=Select[Any])


def acts_as_agency(who: Principal) -> bool:
    """An agency's key (or person) that is not also an office or an inspector."""
    return Role.AGENCY in who.roles and not who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR)


def _org_id(who: Principal) -> UUID | None:
    try:
        return UUID(who.org) if who.org else None
    except ValueError:
        return None


def _agencies_visible(stmt: S, who: Principal) -> S:
    if acts_as_agency(who):
        own = _org_id(who)
        return stmt.where(Agency.id == own) if own is not None else stmt.where(false())
    return visible_to(stmt, who, Agency.division_code)


def _commissions_visible(stmt: S, who: Principal, bound: UUID | None) -> S:
    if acts_as_agency(who):
        return stmt.where(Commission.id == bound) if bound is not None else stmt.where(false())
    return visible_to(stmt, who, Commission.division_code)


# --- agencies ---------------------------------------------------------------------------------------


def add_agency(uow: UnitOfWork, row: dict[str, Any], *, registered: DomainError) -> None:
    uow.insert(AGENCIES, [row], violations={"uq_agency_division_code_credit_code": registered})


def update_agency(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """By id; the caller locked the row."""
    uow.update(AGENCIES, [row])


async def get_agency(
    session: AsyncSession, who: Principal, agency_id: UUID, *, for_update: bool = False
) -> Agency | None:
    stmt = _agencies_visible(select(Agency), who).where(Agency.id == agency_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_agencies(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[Agency]:
    stmt = _agencies_visible(select(Agency), who)
    if within:
        stmt = stmt.where(Agency.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(
        stmt, Agency.id, after=after, limit=limit, updated_at=Agency.updated_at, updated_since=updated_since
    )
    return (await session.execute(stmt)).scalars().all()


# --- commissions ------------------------------------------------------------------------------------


def add_commission(uow: UnitOfWork, row: dict[str, Any], deliverables: list[dict[str, Any]]) -> None:
    uow.insert(COMMISSIONS, [row])
    uow.insert(DELIVERABLES, deliverables)


def update_commission(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.update(COMMISSIONS, [row])


async def get_commission(
    session: AsyncSession,
    who: Principal,
    commission_id: UUID,
    *,
    bound: UUID | None = None,
    for_update: bool = False,
    with_deliverables: bool = False,
) -> Commission | None:
    stmt = _commissions_visible(select(Commission), who, bound).where(Commission.id == commission_id)
    if with_deliverables:
        stmt = stmt.options(selectinload(Commission.deliverables))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_commissions(
    session: AsyncSession,
    who: Principal,
    *,
    bound: UUID | None,
    after: UUID | None,
    limit: int,
    within: str | None,
    agency_id: UUID | None,
    updated_since: datetime | None,
) -> Sequence[Commission]:
    stmt = _commissions_visible(select(Commission), who, bound)
    if within:
        stmt = stmt.where(Commission.division_code.startswith(within, autoescape=True))
    stmt = pagination.page(
        stmt,
        Commission.id,
        after=after,
        limit=limit,
        equal=[(Commission.agency_id, agency_id)],
        updated_at=Commission.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


async def bound_commission(session: AsyncSession, key_id: UUID) -> Commission | None:
    """The commission a key was issued for (the key's own checks, expiry and revocation, are the kit's)."""
    stmt = select(Commission).join(CommissionKey, CommissionKey.commission_id == Commission.id)
    return (await session.execute(stmt.where(CommissionKey.key_id == key_id))).scalar_one_or_none()


async def schools_in(session: AsyncSession, ids: Collection[UUID]) -> dict[str, str]:
    """The division codes of the roster's schools among ``ids``, by id as text."""
    stmt = select(RosterSchool.school_id, RosterSchool.division_code).where(RosterSchool.school_id.in_(ids))
    return {str(school_id): code for school_id, code in await session.execute(stmt)}


# --- keys -------------------------------------------------------------------------------------------


def bind_key(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(KEYS, [row])


async def keys_of(session: AsyncSession, who: Principal, commission_id: UUID) -> Sequence[CommissionKey]:
    stmt = visible_to(select(CommissionKey), who, CommissionKey.division_code)
    stmt = stmt.where(CommissionKey.commission_id == commission_id).order_by(CommissionKey.issued_at)
    return (await session.execute(stmt)).scalars().all()


# --- deliverables, reports and reviews ---------------------------------------------------------------


async def get_deliverable(
    session: AsyncSession, commission_id: UUID, deliverable_id: UUID, *, for_update: bool = False
) -> CommissionDeliverable | None:
    """Of a commission the caller has already been shown to see."""
    stmt = select(CommissionDeliverable).where(
        CommissionDeliverable.id == deliverable_id, CommissionDeliverable.commission_id == commission_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def update_deliverable(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.update(DELIVERABLES, [row])


def add_report(uow: UnitOfWork, row: dict[str, Any], results: list[dict[str, Any]]) -> None:
    uow.insert(REPORTS, [row])
    uow.insert(RESULTS, results)


def add_review(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(REVIEWS, [row])


async def reports_of(session: AsyncSession, deliverable_id: UUID) -> list[AgencyReport]:
    """Newest first, each with its results."""
    stmt = (
        select(AgencyReport)
        .where(AgencyReport.deliverable_id == deliverable_id)
        .options(selectinload(AgencyReport.results))
        .order_by(AgencyReport.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def reviews_of(session: AsyncSession, deliverable_id: UUID) -> list[DeliverableReview]:
    stmt = select(DeliverableReview).where(DeliverableReview.deliverable_id == deliverable_id)
    return list((await session.execute(stmt.order_by(DeliverableReview.id))).scalars())
