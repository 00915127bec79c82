"""Checks API keys on every request of a service process, with a short cache.

A revocation event clears the cache entry in every process at once; the cache's time-to-live only
bounds how stale a key can be if that event were lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dudao.apikeys import keys, repository
from dudao.auth.principal import Principal, Role
from dudao.clock import Clock
from dudao.errors import Forbidden, Unauthenticated

log = structlog.get_logger("dudao.apikeys")
_NEGATIVE_TTL = 5.0
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class _Cached:
    key_id: UUID
    principal: Principal | None  # None: no such key (negative cache)
    expires_at: datetime | None
    revoked: bool
    cached_until: float


class ApiKeyAuthenticator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        service: str,
        clock: Clock,
        cache_seconds: float,
        last_used_resolution: float,
    ) -> None:
        self._sessions = sessions
        self._service = service
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._resolution = last_used_resolution
        self._cache: dict[str, _Cached] = {}
        self._last_touched: dict[UUID, float] = {}
        self._pending_touch: set[UUID] = set()

    async def authenticate(self, key: str, method: str) -> Principal:
        if not keys.well_formed(key):
            raise Unauthenticated("The API key is malformed")
        digest = keys.key_hash(key)
        entry = self._cache.get(digest)
        if entry is None or entry.cached_until < time.monotonic():
            entry = await self._load(digest)
            self._cache[digest] = entry
        if entry.principal is None:
            raise Unauthenticated("The API key is not known")
        if entry.revoked:
            raise Unauthenticated("The API key has been revoked")
        if entry.expires_at is not None and entry.expires_at <= self._clock.now():
            raise Unauthenticated("The API key has expired")
        principal = entry.principal
        if "*" not in principal.scope_services and self._service not in principal.scope_services:
            raise Forbidden(f"The API key is not scoped to the {self._service} service")
        operation = "write" if method.upper() in WRITE_METHODS else "read"
        if operation not in principal.scope_operations:
            raise Forbidden(f"The API key may not {operation}")
        self._note_use(entry.key_id)
        return principal

    def forget(self, key_hash: str) -> None:
        self._cache.pop(key_hash, None)

    async def _load(self, digest: str) -> _Cached:
        async with self._sessions() as session:
            row = await repository.by_hash(session, digest)
        now = time.monotonic()
        if row is None:
            return _Cached(UUID(int=0), None, None, False, now + _NEGATIVE_TTL)
        principal = Principal(
            sub=f"apikey:{row.id}",
            name=f"{row.org} ({row.display_prefix}…)",
            roles=frozenset(Role(r) for r in row.roles),
            division=row.division_code,
            org=row.org,
            kind="api_key",
            scope_divisions=tuple(row.scope_divisions),
            scope_services=frozenset(row.scope_services),
            scope_operations=frozenset(row.scope_operations),
            key_id=str(row.id),
        )
        return _Cached(
            row.id, principal, row.expires_at, row.revoked_at is not None, now + self._cache_seconds
        )

    def _note_use(self, key_id: UUID) -> None:
        now = time.monotonic()
        if now - self._last_touched.get(key_id, 0.0) >= self._resolution:
            self._last_touched[key_id] = now
            self._pending_touch.add(key_id)

    async def flush_last_used(self) -> None:
        """Write last-used times in one statement, outside any request's transaction."""
        if not self._pending_touch:
            return
        ids, self._pending_touch = list(self._pending_touch), set()
        try:
            async with self._sessions() as session, session.begin():
                await repository.touch(session, ids, self._clock.now())
        except Exception:
            log.warning("could not record API key use", exc_info=True)
