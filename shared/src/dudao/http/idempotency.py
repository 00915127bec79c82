"""Idempotency-Key for POSTs: a retried request gets the first response again and writes nothing twice.

The stored response is written in the same transaction as the request's effects, so either both
exist or neither does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.errors import Conflict, InvalidInput
from dudao.tables import KitTables

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "location", "etag")


class IdempotencyKeyReused(InvalidInput):
    type = "idempotency-key-reused"
    title = "This Idempotency-Key was used for a different request"


class IdempotencyInProgress(Conflict):
    type = "idempotency-in-progress"
    title = "A request with this Idempotency-Key is still being processed"


def key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters")
    return key


async def request_hash(request: Request) -> str:
    body = await request.body()
    return hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()


async def stored_response(
    session: AsyncSession, kit: KitTables, principal: str, key: str, digest: str
) -> Response | None:
    table = kit.idempotency
    row = (
        (await session.execute(select(table).where(table.c.principal == principal, table.c.key == key)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["request_hash"] != digest:
        raise IdempotencyKeyReused("Send a new Idempotency-Key for a different request")
    headers: dict[str, Any] = dict(row["headers"])
    headers[REPLAYED] = "true"
    return Response(content=row["body"], status_code=row["status"], headers=headers)


async def remember(
    session: AsyncSession, kit: KitTables, principal: str, key: str, digest: str, response: Response
) -> None:
    table = kit.idempotency
    headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    inserted = await session.execute(
        insert(table)
        .values(
            principal=principal,
            key=key,
            request_hash=digest,
            status=response.status_code,
            headers=headers,
            body=bytes(response.body),
        )
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    if inserted.first() is None:
        # A concurrent twin committed first; this transaction must not apply the effects again.
        raise IdempotencyInProgress("Retry to receive the stored response")
