"""Bearer JWTs: HS256 with a shared secret in development, RS256/EdDSA against a JWKS in production."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any

import httpx
import jwt
from jwt.types import Options

from dudao.auth.principal import Principal, Role
from dudao.config import Settings
from dudao.divisions.tree import level_of
from dudao.errors import InvalidInput, Unauthenticated

_ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA", "PS256"}


def issue_dev_token(
    settings: Settings,
    *,
    sub: str,
    name: str,
    roles: list[str],
    division: str,
    org: str | None = None,
    ttl: timedelta | None = None,
) -> str:
    """A development token signed with the shared secret (``dudao token``). Refused in production."""
    if settings.production:
        raise RuntimeError("development tokens are not issued in production")
    level_of(division)
    for role in roles:
        Role(role)
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "name": name,
        "roles": roles,
        "division": division,
        "iat": now,
        "exp": now + int((ttl or timedelta(hours=settings.dev_token_hours)).total_seconds()),
    }
    if org:
        claims["org"] = org
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class JwksCache:
    """The identity provider's keys, fetched asynchronously and refreshed on an unknown ``kid``."""

    def __init__(self, url: str, refresh_seconds: float = 300.0) -> None:
        self.url = url
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = 0.0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched > self.refresh_seconds
        if stale or (kid is not None and kid not in self._keys):
            await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid is None or kid not in self._keys:
            raise Unauthenticated("The token's signing key is not one of the identity provider's keys")
        return self._keys[kid]

    async def _refresh(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self.url)
            response.raise_for_status()
        keyset = jwt.PyJWKSet.from_dict(response.json())
        self._keys = {k.key_id or "": k for k in keyset.keys}
        self._fetched = time.monotonic()


class TokenVerifier:
    """Verifies bearer tokens; a token already verified is remembered until it expires."""

    cache_size = 10_000

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self.jwks = JwksCache(settings.jwks_url) if settings.jwks_url else None
        if settings.production and self.jwks is None:
            raise RuntimeError("production needs DUDAO_JWKS_URL: shared-secret tokens are for development")
        # In production only the identity provider's keys sign tokens: the shared secret is public.
        self.algorithms = {
            a for a in settings.jwt_algorithms if not (settings.production and a.startswith("HS"))
        }
        if not self.algorithms:
            raise RuntimeError('production needs an asymmetric DUDAO_JWT_ALGORITHMS, e.g. ["RS256"]')

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            self._verified.move_to_end(token)
            return cached[0]
        principal, expires = await self._verify(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("The bearer token is not a JWT") from None
        algorithm = header.get("alg", "")
        if algorithm not in self.algorithms:
            raise Unauthenticated(f"Tokens signed with {algorithm!r} are not accepted")
        key: Any
        if algorithm in _ASYMMETRIC:
            if self.jwks is None:
                raise Unauthenticated("No JWKS is configured for asymmetric tokens")
            key = (await self.jwks.key(header.get("kid"))).key
        else:
            key = self.settings.jwt_secret.get_secret_value()
        options: Options = {"require": ["exp", "sub"]}
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options=options,
                issuer=self.settings.jwt_issuer,
                audience=self.settings.jwt_audience,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The token is not valid: {exc}") from None
        return principal_from_claims(claims), float(claims["exp"])


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
        division = str(claims["division"])
        level_of(division)
    except (KeyError, ValueError, InvalidInput):
        raise Unauthenticated("The token lacks valid roles or a division claim") from None
    return Principal(
        sub=str(claims["sub"]),
        name=str(claims.get("name", claims["sub"])),
        roles=roles,
        division=division,
        org=claims.get("org"),
        kind="person",
    )
