"""What a principal may see and act on: the one place that limits any select to a principal's jurisdictions
(division-code prefixes) and, where rows are addressed, a supervised unit to its own."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import Division, DivisionTree
from dudao.errors import DomainError, Forbidden

S = TypeVar("S", bound=Select[Any])


class Located(Protocol):
    """A mapped record of one division, found by its id. (Declared as the class's attributes, the columns
    a query names: an instance's are the plain values.)"""

    id: ClassVar[Mapped[UUID]]
    division_code: ClassVar[Mapped[str]]


R = TypeVar("R", bound=Located)


class DivisionOutsideJurisdiction(Forbidden):
    type = "division-outside-jurisdiction"
    title = "You may not act outside your jurisdiction"


# Who reads rows of a jurisdiction; a portal reads only what is published, through the public routes.
_READERS = tuple(role for role in Role if role is not Role.PORTAL)


def addressed_only(who: Principal) -> bool:
    """A supervised unit sees what is addressed to it, not what concerns its neighbours in the same county."""
    return Role.SUPERVISED_UNIT in who.roles and not who.has_any(
        Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.MEMBER_UNIT
    )


def visible_to(
    stmt: S, who: Principal, division_column: ColumnElement[str] | Any, *addressees: ColumnElement[Any] | Any
) -> S:
    """``stmt`` narrowed to rows whose division code lies in one of the principal's jurisdictions and, given
    ``addressees`` (the columns naming whom a row is for), for a supervised unit to rows naming its org; a
    portal's to none."""
    prefixes = who.jurisdictions
    if not prefixes or not who.has_any(*_READERS):
        return stmt.where(false())
    stmt = stmt.where(or_(*(division_column.startswith(p, autoescape=True) for p in prefixes)))
    if not addressees or not addressed_only(who):
        return stmt
    if who.org is None:
        return stmt.where(false())
    return stmt.where(or_(*(column == who.org for column in addressees)))


async def get_visible(
    session: AsyncSession, who: Principal, model: type[R], record_id: UUID, *, for_update: bool = False
) -> R | None:
    """The record with this id if its division lies in the principal's jurisdiction; ``for_update``
    locks it for the change that follows."""
    stmt = visible_to(select(model), who, model.division_code).where(model.id == record_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def require_visible(
    session: AsyncSession,
    who: Principal,
    model: type[R],
    record_id: UUID,
    missing: DomainError,
    *,
    for_update: bool = False,
) -> R:
    """``get_visible``, or ``missing`` raised: a record of another jurisdiction is one that does not exist."""
    record = await get_visible(session, who, model, record_id, for_update=for_update)
    if record is None:
        raise missing
    return record


def listed(stmt: S, who: Principal, division_column: ColumnElement[str] | Any, within: str | None) -> S:
    """``stmt`` within the caller's jurisdiction and, with ``within``, under that division-code prefix."""
    stmt = visible_to(stmt, who, division_column)
    return stmt.where(division_column.startswith(within, autoescape=True)) if within else stmt


def require_within(divisions: DivisionTree, who: Principal, code: str) -> Division:
    """A division of this deployment to act in, within the caller's jurisdiction (403 outside it)."""
    division = divisions.require(code)
    if not who.can_see(code):
        raise DivisionOutsideJurisdiction(f"{code} is outside your jurisdiction")
    return division
