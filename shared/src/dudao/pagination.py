"""Cursor pagination over UUIDv7 ids, stable under inserts and cheap at any depth: the cursor, the query
parameters, the select of one page and the page a route returns."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator
from sqlalchemy import Select, SQLColumnExpression, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from dudao.errors import InvalidInput
from dudao.http.responses import json_model

S = TypeVar("S", bound=Select[Any])
P = TypeVar("P", bound=BaseModel)


class InvalidCursor(InvalidInput):
    type = "invalid-cursor"
    title = "The cursor is not one this API gave out"


def encode_cursor(last_id: UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> UUID | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return UUID(bytes=raw)
    except (ValueError, binascii.Error):
        raise InvalidCursor(f"{cursor!r} is not a valid cursor") from None


Cursor = Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]

SYNC_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
_ISO_8601 = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def _iso_8601(value: object) -> object:
    # Pydantic would read a number as seconds since 1970: "-1" and "1950" are not a time a client synced.
    if isinstance(value, str) and not _ISO_8601.match(value):
        raise ValueError("must be an ISO 8601 timestamp with an offset, such as 2026-03-01T08:00:00+08:00")
    return value


def _not_before_floor(value: datetime | None) -> datetime | None:
    if value is not None and value < SYNC_FLOOR:
        raise ValueError(f"must not be before {SYNC_FLOOR.date().isoformat()}")
    return value


UpdatedSince = Annotated[
    AwareDatetime | None,
    BeforeValidator(_iso_8601),
    AfterValidator(_not_before_floor),
    Query(
        description="Mobile sync: rows changed since this instant (ISO 8601 with an offset; 2000 or later)"
    ),
]


def next_cursor(ids: list[UUID], limit: int) -> str | None:
    """The cursor of the next page; callers fetch ``limit + 1`` rows to know whether there is one."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None


def page(
    stmt: S,
    id_: InstrumentedAttribute[UUID],
    *,
    after: UUID | None,
    limit: int,
    equal: Sequence[tuple[SQLColumnExpression[Any], object]] = (),
    newest_first: bool = False,
    updated_at: InstrumentedAttribute[datetime] | None = None,
    updated_since: datetime | None = None,
) -> S:
    """``stmt`` from the row after the cursor, ``limit`` rows in id order, where each column of ``equal``
    equals its value (None does not filter). With ``updated_since``, the rows whose ``updated_at`` is at or
    after it, oldest change first, for mobile sync."""
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if updated_since is not None:
        if updated_at is None or newest_first:
            raise ValueError("a sync walk needs updated_at and runs oldest change first")
        # Walked by (updated_at, id) so that rows changed in the same instant are not skipped.
        stmt = stmt.where(updated_at >= updated_since).order_by(updated_at, id_)
        if after is not None:
            anchor = select(updated_at).where(id_ == after).scalar_subquery()
            stmt = stmt.where(tuple_(updated_at, id_) > tuple_(anchor, after))
        return stmt.limit(limit)
    if after is not None:
        stmt = stmt.where(id_ < after if newest_first else id_ > after)
    return stmt.order_by(id_.desc() if newest_first else id_).limit(limit)


def json_page(shape: type[BaseModel], rows: Sequence[Mapping[Any, Any]], limit: int) -> Response:
    """The ``shape`` of plain ``rows`` fetched with ``limit + 1``, as the response itself: validated and
    serialised once, in pydantic's core."""
    page = shape.model_validate(
        {"items": rows[:limit], "next_cursor": next_cursor([r["id"] for r in rows], limit)}
    )
    return json_model(page)


def page_of(shape: type[P], read: type[BaseModel], rows: Sequence[Any], limit: int) -> P:
    """The ``shape`` of ``rows`` fetched with ``limit + 1``: the first ``limit`` as ``read``, and the cursor
    of the next page when there is one."""
    return shape(
        items=[read.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor([r.id for r in rows], limit),
    )
