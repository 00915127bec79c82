"""Every query of special topics and emergency supervisions, always through the jurisdiction helper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.special.models import EmergencySupervision, SpecialTopic

TOPICS = cast(Table, SpecialTopic.__table__)
EMERGENCIES = cast(Table, EmergencySupervision.__table__)


def _usable(who: Principal, above: Sequence[str]) -> Any:
    """The topics a principal may use: seeded ones, those of the offices above it (``above``: its
    division's ancestors) and those within its jurisdiction."""
    own = visible_to(select(SpecialTopic.id), who, SpecialTopic.division_code)
    return or_(
        SpecialTopic.division_code.is_(None),
        SpecialTopic.division_code.in_(above),
        SpecialTopic.id.in_(own),
    )


def add_topic(uow: UnitOfWork, row: dict[str, Any], *, taken: DomainError) -> None:
    uow.insert(TOPICS, [row], violations={"uq_special_topic_division_code_code": taken})


def update_topic(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.update(TOPICS, [row])


async def get_topic(
    session: AsyncSession, who: Principal, above: Sequence[str], topic_id: UUID, *, for_update: bool = False
) -> SpecialTopic | None:
    stmt = select(SpecialTopic).where(_usable(who, above), SpecialTopic.id == topic_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_topics(
    session: AsyncSession,
    who: Principal,
    above: Sequence[str],
    *,
    after: UUID | None,
    limit: int,
    updated_since: datetime | None,
) -> Sequence[SpecialTopic]:
    stmt = pagination.page(
        select(SpecialTopic).where(_usable(who, above)),
        SpecialTopic.id,
        after=after,
        limit=limit,
        updated_at=SpecialTopic.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


def add_emergency(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(EMERGENCIES, [row])


def update_emergency(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    uow.update(EMERGENCIES, rows)


async def page_emergencies(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[EmergencySupervision]:
    stmt = pagination.page(
        listed(select(EmergencySupervision), who, EmergencySupervision.division_code, within),
        EmergencySupervision.id,
        after=after,
        limit=limit,
        updated_at=EmergencySupervision.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


async def claim_overdue(session: AsyncSession, now: datetime, limit: int) -> Sequence[EmergencySupervision]:
    """First reports due by ``now`` and not filed, whose lateness nobody noticed yet, locked for this
    scheduler alone (another replica skips them). The system's job: every jurisdiction."""
    stmt = (
        select(EmergencySupervision)
        .where(
            EmergencySupervision.first_reported_at.is_(None),
            EmergencySupervision.overdue_noticed_at.is_(None),
            EmergencySupervision.report_due_at <= now,
        )
        .order_by(EmergencySupervision.report_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).scalars().all()
