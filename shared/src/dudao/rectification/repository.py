"""Every query of findings and rectifications, always through the jurisdiction helper and the mounting
service's visibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    RowMapping,
    Select,
    Table,
    Uuid,
    any_,
    bindparam,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dudao import bulk
from dudao.auth.principal import Principal, Role
from dudao.jurisdiction import visible_to
from dudao.rectification.models import (
    Finding,
    Rectification,
    RectificationReminder,
    RectificationStatus,
    RectificationStep,
)
from dudao.uow import UnitOfWork

S = TypeVar("S", bound=Select[Any])

# Which rectifications of its jurisdiction a principal sees: a condition on them, or None for all.
Visibility = Callable[[Principal], ColumnElement[bool] | None]

# The tables, for the set-wise writes.
R = cast(Table, Rectification.__table__)
F = cast(Table, Finding.__table__)
REMINDER = cast(Table, RectificationReminder.__table__)


def units_see_their_own(who: Principal) -> ColumnElement[bool] | None:
    """Offices, inspectors and member units see their whole jurisdiction; anyone else (a supervised unit)
    the rectifications it carries out and those it answers for as competent department."""
    if who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.MEMBER_UNIT):
        return None
    return or_(Rectification.unit_id == who.org, Rectification.competent_department == who.org)


def _visible(stmt: S, who: Principal, visibility: Visibility) -> S:
    stmt = visible_to(stmt, who, Rectification.division_code)
    condition = visibility(who)
    return stmt if condition is None else stmt.where(condition)


def _facts(r: Any) -> tuple[ColumnElement[Any], ...]:
    """What every event of a rectification says (RectificationEvent's fields): the columns of ``r`` (the
    rectification table, or rows returned from it) and of its finding."""
    return (
        r.c.id.label("rectification_id"),
        r.c.finding_id,
        F.c.category,
        F.c.severity,
        F.c.unit_id,
        F.c.unit_kind,
        F.c.unit_name,
        F.c.competent_department,
        r.c.office_division,
        r.c.deadline,
        r.c.provisional_deadline,
        r.c.division_code.label("division"),
    )


def facts_of(row: Any) -> dict[str, Any]:
    """The fields of an event from a row of ``_facts``, ids and enumerations as the events carry them."""
    facts = dict(row._mapping)
    facts["rectification_id"] = str(facts["rectification_id"])
    facts["finding_id"] = str(facts["finding_id"])
    facts["severity"] = str(facts["severity"])
    facts["unit_kind"] = str(facts["unit_kind"])
    return facts


def add(uow: UnitOfWork, findings: list[dict[str, Any]], rectifications: list[dict[str, Any]]) -> None:
    """Findings and their rectifications, one statement per table (which may be joined into one: a foreign
    key is checked at the statement's end)."""
    uow.insert(F, findings)
    uow.insert(R, rectifications)


async def get_visible(
    session: AsyncSession,
    who: Principal,
    visibility: Visibility,
    rectification_id: UUID,
    *,
    for_update: bool = False,
    with_history: bool = False,
) -> Rectification | None:
    stmt = _visible(select(Rectification), who, visibility).where(Rectification.id == rectification_id)
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


async def lock_for_steps(session: AsyncSession, ids: list[UUID]) -> dict[UUID, RowMapping]:
    """What applying steps needs of these rectifications, as plain rows, locked in id order."""
    if not ids:
        return {}
    r = Rectification
    stmt = (
        select(
            r.id, r.status, r.escalation_level, r.deadline, r.provisional_deadline, r.version, r.division_code
        )
        .where(r.id == any_(bindparam("ids", sorted(set(ids)), type_=ARRAY(Uuid()))))
        .order_by(r.id)
        .with_for_update()
    )
    return {row["id"]: row for row in (await session.execute(stmt)).mappings()}


async def page(
    session: AsyncSession,
    who: Principal,
    visibility: Visibility,
    *,
    after: UUID | None,
    limit: int,
    status: RectificationStatus | None,
    unit_id: str | None,
    overdue: bool | None,
    updated_since: datetime | None,
) -> list[Rectification]:
    stmt = _visible(select(Rectification), who, visibility).order_by(Rectification.id).limit(limit)
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


async def mark_overdue(session: AsyncSession, today: date, now: datetime, limit: int) -> list[dict[str, Any]]:
    """In one statement: open rectifications past their deadline whose overdue fact is not out are marked
    overdue for that deadline; replicas skip each other's rows. Returns the facts of each, for its event."""
    due = (
        select(R.c.id)
        .where(
            R.c.status == RectificationStatus.OPEN,
            R.c.deadline < today,
            R.c.overdue_deadline.is_distinct_from(R.c.deadline),
        )
        .order_by(R.c.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The version moves as the ORM's version counter would, so ETags read before the sweep go stale.
    marked = (
        update(R)
        .where(R.c.id.in_(due))
        .values(overdue_deadline=R.c.deadline, version=R.c.version + 1, updated_at=now)
        .returning(
            R.c.id,
            R.c.finding_id,
            R.c.office_division,
            R.c.deadline,
            R.c.provisional_deadline,
            R.c.division_code,
        )
        .cte("marked")
    )
    stmt = (
        select(*_facts(marked))
        .join_from(marked, F, F.c.id == marked.c.finding_id)
        .order_by(marked.c.deadline, marked.c.id)
    )
    return [facts_of(row) for row in await session.execute(stmt)]


async def claim_reminders(
    session: AsyncSession, today: date, days_before: int, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """In one statement: the reminders ``days_before`` days before the deadline not yet sent for open
    rectifications due within that many days are claimed (each once per rectification and deadline, as
    the reminder table's key says); replicas skip each other's rows. Returns the facts of each claimed."""
    sent = select(RectificationReminder.rectification_id).where(
        RectificationReminder.rectification_id == R.c.id,
        RectificationReminder.deadline == R.c.deadline,
        RectificationReminder.days_before == days_before,
    )
    due = (
        select(R.c.id, R.c.deadline, literal(days_before), literal(now))
        .where(
            R.c.status == RectificationStatus.OPEN,
            R.c.deadline >= today,
            R.c.deadline <= today + timedelta(days=days_before),
            ~sent.exists(),
        )
        .order_by(R.c.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = (
        insert(REMINDER)
        .from_select(["rectification_id", "deadline", "days_before", "sent_at"], due)
        .on_conflict_do_nothing()
        .returning(REMINDER.c.rectification_id)
        .cte("claimed")
    )
    stmt = (
        select(*_facts(R))
        .join_from(claimed, R, R.c.id == claimed.c.rectification_id)
        .join(F, F.c.id == R.c.finding_id)
        .order_by(R.c.deadline, R.c.id)
    )
    return [facts_of(row) for row in await session.execute(stmt)]


async def record_steps(uow: UnitOfWork, steps: list[dict[str, Any]]) -> set[UUID]:
    """Record steps once, with one statement; the step ids recorded now (not before)."""
    table = cast(Table, RectificationStep.__table__)
    write = bulk.write("insert_ignore", table, steps, schema=uow.kit.schema)  # the kit's table, in ours
    if write is None:
        return set()
    return {row.step_id for row in await bulk.fetch(uow.session, write, ["step_id"])}


def update_all(uow: UnitOfWork, rectifications: list[dict[str, Any]]) -> None:
    """Changed columns of rectifications the caller has locked, with one statement."""
    uow.update(cast(Table, Rectification.__table__), rectifications)


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
