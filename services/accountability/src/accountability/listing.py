"""Lists: cursor pages over UUIDv7 ids, narrowed by the filters a caller gave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, SQLColumnExpression
from sqlalchemy.orm import InstrumentedAttribute

S = TypeVar("S", bound=Select[Any])


def page(
    stmt: S,
    id_column: InstrumentedAttribute[UUID],
    *,
    after: UUID | None,
    limit: int,
    equal: Sequence[tuple[SQLColumnExpression[Any], object]] = (),
    newest_first: bool = False,
) -> S:
    """``stmt`` from the row after the cursor, ``limit`` rows, where each column equals its given value
    (a value of None does not filter)."""
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if after is not None:
        stmt = stmt.where(id_column < after if newest_first else id_column > after)
    return stmt.order_by(id_column.desc() if newest_first else id_column).limit(limit)
