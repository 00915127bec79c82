"""What a principal may read here: its jurisdiction; for a supervised unit, only what is addressed to it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, false, or_

from dudao.auth.principal import Principal, Role
from dudao.jurisdiction import visible_to

S = TypeVar("S", bound=Select[Any])


def addressed_only(who: Principal) -> bool:
    """A supervised unit sees its own escalation, not that of its neighbours in the same county."""
    return Role.SUPERVISED_UNIT in who.roles and not who.has_any(
        Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.MEMBER_UNIT
    )


def visible(
    stmt: S, who: Principal, division: SQLColumnExpression[str], *addressees: SQLColumnExpression[Any]
) -> S:
    """``stmt`` narrowed to the principal's jurisdiction and, for a unit, to rows naming its ``org``."""
    stmt = visible_to(stmt, who, division)
    if not addressed_only(who):
        return stmt
    if who.org is None:
        return stmt.where(false())
    return stmt.where(or_(*(column == who.org for column in addressees)))
