"""The one helper that limits any select to what a principal may see (division code prefixes)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_

from dudao.auth.principal import Principal

S = TypeVar("S", bound=Select[Any])


def visible_to(stmt: S, who: Principal, division_column: ColumnElement[str] | Any) -> S:
    """``stmt`` narrowed to rows whose division code lies in one of the principal's jurisdictions."""
    prefixes = who.jurisdictions
    if not prefixes:
        return stmt.where(false())
    return stmt.where(or_(*(division_column.startswith(p, autoescape=True) for p in prefixes)))
