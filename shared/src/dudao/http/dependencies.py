"""Request dependencies: the runtime, the principal, role checks and the unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from dudao.audit import AuditKeys
from dudao.auth.principal import Principal, Role
from dudao.common.models import common_kit
from dudao.errors import Forbidden, Unauthenticated
from dudao.http.ratelimit import rate_limits
from dudao.runtime import Runtime
from dudao.tables import KitTables
from dudao.uow import Actor, UnitOfWork


def current_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def runtime(request: Request) -> Runtime:
    """As a dependency (async, so FastAPI does not hop to a worker thread for it)."""
    return current_runtime(request)


def _credential(request: Request) -> tuple[str, str] | None:
    api_key = request.headers.get("x-api-key")
    if api_key:
        return "api_key", api_key.strip()
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
    value = value.strip()
    return ("api_key" if value.startswith("ddk_") else "jwt"), value


async def authenticated(request: Request) -> Principal:
    """The caller, from a bearer JWT or an API key; 401 without one."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    limits = rate_limits(request)
    address = limits.client_address(request)
    await limits.refuse_if_backing_off(address)
    try:
        credential = _credential(request)
        if credential is None:
            raise Unauthenticated("This endpoint needs a bearer token or an API key")
        rt = current_runtime(request)
        kind, value = credential
        if kind == "api_key":
            principal = await rt.api_keys.authenticate(value, request.method)
        else:
            principal = await rt.tokens.verify(value)
    except Unauthenticated:
        await limits.failed_authentication(address)
        raise
    await limits.admit_principal(principal)
    request.state.principal = principal
    return principal


# Every role check ``require`` made: the OpenAPI document names the 403 of each route that depends on one.
ROLE_CHECKS: set[Callable[..., Awaitable[Principal]]] = set()


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through principals holding one of ``roles`` (platform admins always)."""
    names = ", ".join(r.value for r in roles)

    async def check(who: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not who.has_any(*roles):
            raise Forbidden(f"This needs one of the roles: {names}")
        return who

    check.__name__ = "require_" + "_or_".join(r.value for r in roles)
    ROLE_CHECKS.add(check)
    return check


def _actor(request: Request, who: Principal | None) -> Actor:
    return Actor(
        id=who.sub if who else "anonymous",
        kind=who.kind if who else "anonymous",
        # Not X-Forwarded-For as sent: a client could write any address into the audit log.
        source_address=rate_limits(request).client_address(request),
        request_id=getattr(request.state, "request_id", None),
        traceparent=request.headers.get("traceparent"),
    )


def _open_uow(request: Request, who: Principal | None, kit: KitTables | None = None) -> UnitOfWork:
    rt = current_runtime(request)
    uow = UnitOfWork(
        # The session TransactionalRoute claimed an Idempotency-Key in, if it did: one transaction.
        session=getattr(request.state, "session", None) or rt.sessions(),
        kit=kit or rt.spec.kit,
        source=rt.spec.event_source,
        clock=rt.clock,
        actor=_actor(request, who),
        notify=rt.notifier.poke,
        audit_keys=AuditKeys.from_settings(rt.settings),
    )
    # TransactionalRoute commits this before the response is sent, and closes it in any case.
    request.state.uow = uow
    return uow


async def unit_of_work(request: Request, who: Annotated[Principal, Depends(authenticated)]) -> UnitOfWork:
    return _open_uow(request, who)


async def common_unit_of_work(
    request: Request, who: Annotated[Principal, Depends(authenticated)]
) -> UnitOfWork:
    """For writes to the kit's ``common`` schema: its outbox and audit log, not the service's."""
    return _open_uow(request, who, common_kit)


async def public_unit_of_work(request: Request) -> UnitOfWork:
    """For the few unauthenticated reads (plates, published reports)."""
    return _open_uow(request, None)


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]
UoW = Annotated[UnitOfWork, Depends(unit_of_work)]
CommonUoW = Annotated[UnitOfWork, Depends(common_unit_of_work)]
PublicUoW = Annotated[UnitOfWork, Depends(public_unit_of_work)]
