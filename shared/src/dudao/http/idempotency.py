"""Idempotency-Key for POSTs: a retried request gets the first response again and writes nothing twice.

The key is claimed in the request's own transaction before the endpoint runs, with a transaction-scoped
advisory lock, and the response is stored in that transaction with the request's effects: either both
exist or neither does, and while the first request runs, a duplicate is told so instead of running the
endpoint a second time. A first request that fails rolls back and releases the key for a retry.
A stored response is kept ``idempotency_ttl_hours`` at least; then the worker prunes it (dudao.retention)
and the key may be used afresh.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from sqlalchemy import Boolean, Select, Text, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.errors import Conflict, InvalidInput
from dudao.http.dependencies import authenticated
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
    """The key of a POST to a route that authenticates its caller. A public route's is ignored: a key is
    kept per principal, and a public write (a survey answer) is once per link by its own rule."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or not _authenticates(request.scope.get("route")):
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters")
    return key


def _authenticates(route: object) -> bool:
    dependant: Dependant | None = getattr(route, "dependant", None)
    return dependant is not None and _needs_principal(dependant)


def _needs_principal(dependant: Dependant) -> bool:
    return any(d.call is authenticated or _needs_principal(d) for d in dependant.dependencies)


async def request_hash(request: Request) -> str:
    body = await request.body()
    return hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()


@cache
def _lookup(kit: KitTables) -> Select[Any]:
    table = kit.idempotency
    match = (table.c.principal == bindparam("principal")) & (table.c.key == bindparam("key"))
    return select(table.c.request_hash, table.c.status, table.c.headers, table.c.body).where(match)


@cache
def _claim_and_lookup(kit: KitTables) -> Select[Any]:
    """Take the key's lock and read its stored response, in one round trip (one row, stored or not)."""
    table = kit.idempotency
    lock = func.hashtextextended(bindparam("lock", type_=Text), 0)
    claimed = func.pg_try_advisory_xact_lock(lock, type_=Boolean).label("claimed")
    one = select(literal(1).label("n")).subquery("one")
    match = (table.c.principal == bindparam("principal")) & (table.c.key == bindparam("key"))
    return select(claimed, table.c.request_hash, table.c.status, table.c.headers, table.c.body).select_from(
        one.outerjoin(table, match)
    )


async def claim(
    session: AsyncSession, kit: KitTables, principal: str, key: str, digest: str
) -> Response | None:
    """Claim ``key`` in the transaction of ``session`` (None: go on), or the stored response to replay.

    The lock is held until the transaction ends. A stored response is replayed whoever holds the lock,
    so concurrent retries of a finished request all get it. Without one, the look-up is repeated once
    the lock is taken: the first statement's snapshot predates the lock, and may miss the response of
    a first request that committed, and so released the lock, in between.
    """
    # Advisory locks are database-wide: the schema keeps services that share a database apart.
    params = {"lock": f"{kit.schema}\n{principal}\n{key}", "principal": principal, "key": key}
    row = (await session.execute(_claim_and_lookup(kit), params)).mappings().one()
    if row["request_hash"] is None:
        if not row["claimed"]:
            raise IdempotencyInProgress("Retry to receive the stored response")
        row = (await session.execute(_lookup(kit), params)).mappings().first()
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
    """Store the response in the transaction that claimed the key, beside the request's effects."""
    headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    await session.execute(
        insert(kit.idempotency).values(
            principal=principal,
            key=key,
            request_hash=digest,
            status=response.status_code,
            headers=headers,
            body=bytes(response.body),
        )
    )
