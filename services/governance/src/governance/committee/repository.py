"""Every query about committees, their member units and liaisons, always through the jurisdiction
helper; a member unit's people (role member_unit, ``org`` = the member's id) see their own committee only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from sqlalchemy import ColumnElement, RowMapping, Select, String, Table, false, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal, Role
from dudao.errors import DomainError
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from governance.committee.models import Committee, CommitteeMember, Liaison

S = TypeVar("S", bound=Select[Any])

COMMITTEES = cast(Table, Committee.__table__)
MEMBERS = cast(Table, CommitteeMember.__table__)
LIAISONS = cast(Table, Liaison.__table__)
COMMITTEE_TAKEN, MEMBER_TAKEN = "uq_committee_division_code", "uq_committee_member_committee_id_name"


def _members_own(who: Principal) -> ColumnElement[bool] | None:
    """For a member unit's people, the condition that a committee is theirs; None for everyone else."""
    if Role.MEMBER_UNIT not in who.roles or who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR):
        return None
    if who.org is None:
        return false()
    theirs = select(CommitteeMember.committee_id).where(sql_cast(CommitteeMember.id, String) == who.org)
    return Committee.id.in_(theirs.scalar_subquery())


def _visible(stmt: S, who: Principal) -> S:
    stmt = visible_to(stmt, who, Committee.division_code)
    own = _members_own(who)
    return stmt if own is None else stmt.where(own)


def add(uow: UnitOfWork, table: Table, row: Mapping[str, Any], violations: Mapping[str, DomainError]) -> None:
    uow.insert(table, [row], violations=violations)


def change(
    uow: UnitOfWork, table: Table, row: Mapping[str, Any], violations: Mapping[str, DomainError]
) -> None:
    """The row's new columns (locked by the ``for_update`` read that found it)."""
    uow.update(table, [row], violations=violations)


async def get_visible(
    session: AsyncSession, who: Principal, committee_id: UUID, *, for_update: bool = False
) -> Committee | None:
    stmt = _visible(select(Committee), who).where(Committee.id == committee_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def member(
    session: AsyncSession, who: Principal, committee_id: UUID, member_id: UUID, *, for_update: bool = False
) -> CommitteeMember | None:
    stmt = visible_to(select(CommitteeMember), who, CommitteeMember.division_code).where(
        CommitteeMember.id == member_id, CommitteeMember.committee_id == committee_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def liaison(
    session: AsyncSession, who: Principal, committee_id: UUID, liaison_id: UUID
) -> Liaison | None:
    """Locked for a change."""
    stmt = visible_to(select(Liaison), who, Liaison.division_code).where(
        Liaison.id == liaison_id, Liaison.committee_id == committee_id
    )
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


async def directory(
    session: AsyncSession, who: Principal, committee_id: UUID
) -> tuple[Committee, Sequence[CommitteeMember], Sequence[Liaison]] | None:
    """The committee, its member units by name and their liaisons by name."""
    committee = await get_visible(session, who, committee_id)
    if committee is None:
        return None
    members = visible_to(select(CommitteeMember), who, CommitteeMember.division_code).where(
        CommitteeMember.committee_id == committee_id
    )
    liaisons = visible_to(select(Liaison), who, Liaison.division_code).where(
        Liaison.committee_id == committee_id
    )
    return (
        committee,
        (await session.execute(members.order_by(CommitteeMember.name))).scalars().all(),
        (await session.execute(liaisons.order_by(Liaison.name, Liaison.id))).scalars().all(),
    )


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    stmt = _visible(listed(select(*COMMITTEES.c), who, Committee.division_code, within), who)
    stmt = pagination.page(
        stmt,
        Committee.id,
        after=after,
        limit=limit,
        updated_at=Committee.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).mappings().all()
