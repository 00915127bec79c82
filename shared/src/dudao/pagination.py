"""Cursor pagination over UUIDv7 ids: stable under inserts, and cheap at any depth."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from uuid import UUID

from fastapi import Query

from dudao.errors import InvalidInput


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


def next_cursor(ids: list[UUID], limit: int) -> str | None:
    """The cursor of the next page; callers fetch ``limit + 1`` rows to know whether there is one."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
