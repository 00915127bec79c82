"""The rules of the key registry: issue, rotate, revoke. No SQL here, no commit."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from dudao.apikeys import keys, repository
from dudao.apikeys.events import ApiKeyIssued, ApiKeyRevoked
from dudao.apikeys.schemas import ApiKeyCreate
from dudao.auth.principal import Principal
from dudao.common.models import ApiKey
from dudao.divisions.tree import covers, level_of
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.jurisdiction import require_visible
from dudao.uow import UnitOfWork

ROTATION_GRACE = timedelta(hours=24)


class ApiKeyNotFound(NotFound):
    type = "api-key-not-found"
    title = "No such API key"


class ApiKeyAlreadyRevoked(Conflict):
    type = "api-key-revoked"
    title = "The API key is already revoked"


class KeyOutsideJurisdiction(InvalidInput):
    type = "api-key-outside-jurisdiction"
    title = "A key may not reach beyond its issuer's jurisdiction"


class ScopeOutsideHome(InvalidInput):
    type = "api-key-scope-outside-home"
    title = "A key's divisions narrow its home division and lie within it"


async def issue(
    uow: UnitOfWork, who: Principal, body: ApiKeyCreate, *, replaces: ApiKey | None = None
) -> tuple[ApiKey, str]:
    level_of(body.division_code)
    if not who.can_see(body.division_code):
        raise KeyOutsideJurisdiction(f"{body.division_code} is outside {who.division}")
    # Principal.jurisdictions drops them anyway: refused, so that a key's record says what it reaches.
    outside = sorted(c for c in set(body.scope_divisions) if not covers(body.division_code, c))
    if outside:
        message = f"outside the home division {body.division_code}: {', '.join(outside[:20])}"
        raise field_error(ScopeOutsideHome, "scope_divisions", message)
    now = uow.clock.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidInput(
            "expires_at must be in the future",
            errors=[
                {"field": "expires_at", "in": "body", "message": "must be in the future", "code": "past"}
            ],
        )
    secret = keys.generate()
    key = await repository.add(
        uow.session,
        ApiKey(
            key_hash=keys.key_hash(secret),
            display_prefix=keys.display_prefix(secret),
            name=body.name,
            org=body.org,
            roles=[str(r) for r in body.roles],
            division_code=body.division_code,
            scope_services=sorted(set(body.scope_services)),
            scope_operations=sorted(set(body.scope_operations)),
            scope_divisions=sorted(set(body.scope_divisions)),
            created_at=now,
            created_by=who.sub,
            expires_at=body.expires_at,
            replaces_id=replaces.id if replaces else None,
        ),
    )
    uow.record("apikey.issued", "api_key", key.id, key.division_code, org=key.org, prefix=key.display_prefix)
    uow.emit(
        ApiKeyIssued(
            division=key.division_code,
            key_id=str(key.id),
            display_prefix=key.display_prefix,
            org=key.org,
            expires_at=key.expires_at,
        )
    )
    return key, secret


async def _visible(uow: UnitOfWork, who: Principal, key_id: UUID) -> ApiKey:
    missing = ApiKeyNotFound(f"API key {key_id} does not exist")
    return await require_visible(uow.session, who, ApiKey, key_id, missing, for_update=True)


async def revoke(uow: UnitOfWork, who: Principal, key_id: UUID) -> ApiKey:
    key = await _visible(uow, who, key_id)
    if key.revoked_at is not None:
        raise ApiKeyAlreadyRevoked(
            f"API key {key.display_prefix}… was revoked at {key.revoked_at.isoformat()}"
        )
    key.revoked_at = uow.clock.now()
    key.revoked_by = who.sub
    uow.record("apikey.revoked", "api_key", key.id, key.division_code, prefix=key.display_prefix)
    uow.emit(
        ApiKeyRevoked(
            division=key.division_code,
            key_id=str(key.id),
            key_hash=key.key_hash,
            display_prefix=key.display_prefix,
        )
    )
    return key


async def rotate(uow: UnitOfWork, who: Principal, key_id: UUID) -> tuple[ApiKey, str]:
    """A new key with the same scopes; the old one keeps working for a grace period, then expires."""
    old = await _visible(uow, who, key_id)
    if old.revoked_at is not None:
        raise ApiKeyAlreadyRevoked(f"API key {old.display_prefix}… is revoked and cannot be rotated")
    body = ApiKeyCreate.model_validate(
        {
            "name": old.name,
            "org": old.org,
            "roles": old.roles,
            "division_code": old.division_code,
            "scope_services": old.scope_services,
            "scope_operations": old.scope_operations,
            "scope_divisions": old.scope_divisions,
            "expires_at": old.expires_at,
        },
        strict=False,
    )
    new, secret = await issue(uow, who, body, replaces=old)
    grace_end = uow.clock.now() + ROTATION_GRACE
    if old.expires_at is None or old.expires_at > grace_end:
        old.expires_at = grace_end
    uow.record("apikey.rotated", "api_key", old.id, old.division_code, replaced_by=str(new.id))
    return new, secret


async def list_page(
    uow: UnitOfWork, who: Principal, *, after: UUID | None, limit: int, include_revoked: bool
) -> list[ApiKey]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, include_revoked=include_revoked
    )
