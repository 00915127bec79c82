"""Rate limits: per client address on every route, per API key and per token subject once authenticated,
and a backoff for an address that keeps failing to authenticate.

The kept library ``limits`` counts. Requests in sliding windows: two counters a key however high the
limit (a moving window logs every hit), with a wait that is close, not exact. Failed authentications in a
moving window: few, and the wait they impose is exact. Its memory store counts within one process, which is
the whole of a service on one machine; several instances of a service share a store
(``rate_limit_storage``, e.g. ``redis://…``), or each would allow the limit on its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import cast

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from dudao.auth.principal import Principal
from dudao.config import Settings
from dudao.errors import DomainError

# Probes and scrapes come from the platform itself, as often as it likes.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RateLimited(DomainError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers["Retry-After"] = str(retry_after)


@dataclass(frozen=True)
class _Limit:
    limiter: RateLimiter
    kind: str  # the counter's namespace: address, api_key, subject, auth_failure
    items: list[RateLimitItem]
    refusal: str


class RateLimits:
    """The process's counters, built once per app from the settings."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.rate_limit_storage
        storage = cast(Storage, storage_from_string(uri if uri.startswith("async+") else "async+" + uri))
        sliding, moving = SlidingWindowCounterRateLimiter(storage), MovingWindowRateLimiter(storage)

        def limit(kind: str, limits: str, refusal: str, limiter: RateLimiter = sliding) -> _Limit:
            return _Limit(limiter, kind, parse_many(limits), refusal)

        self._address = limit("address", settings.rate_limit_per_address, "from this address")
        self._api_key = limit("api_key", settings.rate_limit_per_api_key, "with this API key")
        self._subject = limit("subject", settings.rate_limit_per_subject, "for this account")
        # Tiers, each longer than the last: the more an address fails, the longer it waits.
        self._failures = limit(
            "auth_failure",
            settings.rate_limit_auth_failures,
            "failed authentications from this address",
            moving,
        )
        self._proxies: list[IPv4Network | IPv6Network] = [ip_network(p) for p in settings.trusted_proxies]

    def client_address(self, request: Request) -> str:
        """The socket's peer; behind a trusted proxy, the last address in X-Forwarded-For the proxies did
        not add themselves (a client can write anything to the left of it)."""
        peer = request.client.host if request.client else "unknown"
        forwarded = request.headers.get("x-forwarded-for")
        if not forwarded or not self._trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _trusted(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._proxies)

    async def admit_address(self, request: Request) -> None:
        if request.url.path not in UNLIMITED_PATHS:
            await self._hit(self._address, self.client_address(request))

    async def admit_principal(self, principal: Principal) -> None:
        if principal.key_id is not None:
            await self._hit(self._api_key, principal.key_id)
        else:
            await self._hit(self._subject, principal.sub)

    async def refuse_if_backing_off(self, address: str) -> None:
        """Before a credential is even checked: a good one does not lift the backoff either. The wait is
        the longest of the tiers the address has exceeded."""
        failures = self._failures
        exceeded = [i for i in failures.items if not await failures.limiter.test(i, failures.kind, address)]
        if exceeded:
            refusals = [await self._refusal(failures, item, address) for item in exceeded]
            raise max(refusals, key=lambda r: int(r.headers["Retry-After"]))

    async def failed_authentication(self, address: str) -> None:
        for item in self._failures.items:
            await self._failures.limiter.hit(item, self._failures.kind, address)

    async def _hit(self, limit: _Limit, identity: str) -> None:
        for item in limit.items:
            if not await limit.limiter.hit(item, limit.kind, identity):
                raise await self._refusal(limit, item, identity)

    async def _refusal(self, limit: _Limit, item: RateLimitItem, identity: str) -> RateLimited:
        stats = await limit.limiter.get_window_stats(item, limit.kind, identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return RateLimited(f"More than {item} {limit.refusal}; retry in {wait} s", wait)


def rate_limits(request: Request) -> RateLimits:
    found: RateLimits = request.app.state.rate_limits
    return found


async def admit_address(request: Request) -> None:
    """Every route, as an app dependency."""
    await rate_limits(request).admit_address(request)
