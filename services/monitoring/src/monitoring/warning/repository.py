"""Every query of early warning, through the jurisdiction helper where a principal reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ARRAY, Table, Uuid, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from monitoring.warning.models import AlertStatus, RuleKind, WarningAlert, WarningRule

RULES = cast(Table, WarningRule.__table__)
ALERTS = cast(Table, WarningAlert.__table__)


def add_rule(uow: UnitOfWork, row: dict[str, Any], *, taken: DomainError) -> None:
    uow.insert(RULES, [row], violations={"uq_warning_rule_code": taken})


def update_rule(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """By id; the caller locked the row."""
    uow.update(RULES, [row])


async def get_rule(
    session: AsyncSession, who: Principal, rule_id: UUID, *, for_update: bool = False
) -> WarningRule | None:
    stmt = visible_to(select(WarningRule), who, WarningRule.division_code).where(WarningRule.id == rule_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_rules(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    kind: RuleKind | None,
    active: bool | None,
    updated_since: datetime | None,
) -> Sequence[WarningRule]:
    stmt = listed(select(WarningRule), who, WarningRule.division_code, within)
    stmt = pagination.page(
        stmt,
        WarningRule.id,
        after=after,
        limit=limit,
        equal=[(WarningRule.kind, kind), (WarningRule.active, active)],
        updated_at=WarningRule.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


async def active_rules(
    session: AsyncSession, system_keys: Collection[str] | None = None
) -> list[WarningRule]:
    """The rules in force (of these systems, if given), for the evaluations: every office's, since each
    applies to the units under its own division whoever's values are evaluated."""
    stmt = select(WarningRule).where(WarningRule.active.is_(True)).order_by(WarningRule.code)
    if system_keys is not None:
        stmt = stmt.where(WarningRule.system_key.in_(list(system_keys)))
    return list((await session.execute(stmt)).scalars())


async def existing_alerts(session: AsyncSession, ids: Collection[UUID]) -> set[UUID]:
    stmt = select(WarningAlert.id).where(
        WarningAlert.id == any_(bindparam("ids", list(ids), type_=ARRAY(Uuid)))
    )
    return set((await session.execute(stmt)).scalars())


def add_alerts(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """New alerts; one a concurrent evaluation wrote meanwhile stays as it is."""
    uow.insert(ALERTS, rows, ignore_conflicts=True)


def update_alert(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """By id; the caller locked the row."""
    uow.update(ALERTS, [row])


async def get_alert(
    session: AsyncSession, who: Principal, alert_id: UUID, *, for_update: bool = False
) -> WarningAlert | None:
    stmt = (
        visible_to(select(WarningAlert), who, WarningAlert.division_code)
        .where(WarningAlert.id == alert_id)
        .options(joinedload(WarningAlert.rule))
    )
    if for_update:
        stmt = stmt.with_for_update(of=WarningAlert)
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_alerts(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    status: AlertStatus | None,
    year: int | None,
    rule_id: UUID | None,
    unit_id: str | None,
    updated_since: datetime | None,
) -> Sequence[WarningAlert]:
    stmt = listed(select(WarningAlert), who, WarningAlert.division_code, within)
    stmt = pagination.page(
        stmt,
        WarningAlert.id,
        after=after,
        limit=limit,
        equal=[
            (WarningAlert.status, status),
            (WarningAlert.year, year),
            (WarningAlert.rule_id, rule_id),
            (WarningAlert.unit_id, unit_id),
        ],
        updated_at=WarningAlert.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt.options(joinedload(WarningAlert.rule)))).scalars().all()
