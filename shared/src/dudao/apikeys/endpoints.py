"""The admin endpoint of the key registry (platform administrators and supervision offices)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from dudao.apikeys import service
from dudao.apikeys.schemas import ApiKeyCreate, ApiKeyIssuedRead, ApiKeyPage, ApiKeyRead
from dudao.auth.principal import Principal, Role
from dudao.common.models import ApiKey
from dudao.errors import problems
from dudao.http.dependencies import CommonUoW, require
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor

router = transactional_router(prefix="/v1/api-keys", tags=["api keys"])
KeyAdmin = Annotated[Principal, Depends(require(Role.PLATFORM_ADMIN, Role.SUPERVISION_OFFICE))]


def _issued(key: ApiKey, secret: str) -> ApiKeyIssuedRead:
    return ApiKeyIssuedRead.model_validate({**ApiKeyRead.model_validate(key).model_dump(), "key": secret})


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyIssuedRead,
    responses=problems(service.KeyOutsideJurisdiction, service.ScopeOutsideHome),
)
async def issue_api_key(body: ApiKeyCreate, uow: CommonUoW, who: KeyAdmin) -> ApiKeyIssuedRead:
    """Issue a key for a machine client (agency, portal). The key is in this response only."""
    key, secret = await service.issue(uow, who, body)
    return _issued(key, secret)


@router.get("", response_model=ApiKeyPage)
async def list_api_keys(
    uow: CommonUoW,
    who: KeyAdmin,
    cursor: Cursor = None,
    limit: Limit = 50,
    include_revoked: Annotated[bool, Query()] = False,
) -> ApiKeyPage:
    """Keys within your jurisdiction, oldest first, never the keys themselves."""
    rows = await service.list_page(
        uow, who, after=decode_cursor(cursor), limit=limit, include_revoked=include_revoked
    )
    return ApiKeyPage(
        items=[ApiKeyRead.model_validate(k) for k in rows[:limit]],
        next_cursor=next_cursor([k.id for k in rows], limit),
    )


@router.post(
    "/{key_id}/revoke",
    response_model=ApiKeyRead,
    responses=problems(service.ApiKeyNotFound, service.ApiKeyAlreadyRevoked),
)
async def revoke_api_key(key_id: UUID, uow: CommonUoW, who: KeyAdmin) -> ApiKey:
    """Revoke a key. Every service refuses it within a second (a revocation event clears their caches)."""
    return await service.revoke(uow, who, key_id)


@router.post(
    "/{key_id}/rotate",
    status_code=201,
    response_model=ApiKeyIssuedRead,
    responses=problems(service.ApiKeyNotFound, service.ApiKeyAlreadyRevoked),
)
async def rotate_api_key(key_id: UUID, uow: CommonUoW, who: KeyAdmin) -> ApiKeyIssuedRead:
    """Issue a successor with the same scopes; the old key expires after a 24-hour grace period."""
    key, secret = await service.rotate(uow, who, key_id)
    return _issued(key, secret)
