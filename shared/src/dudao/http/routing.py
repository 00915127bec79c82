"""Routes whose transaction commits after the endpoint returns and before the response is sent."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.http import idempotency
from dudao.http.dependencies import authenticated, current_runtime
from dudao.uow import UnitOfWork


class TransactionalRoute(APIRoute):
    """One transaction per request: a successful response commits it, anything else rolls it back.

    Committing here, rather than after a dependency's ``yield``, guarantees the client never sees a
    2xx for a write that then failed to commit. A POST with an Idempotency-Key claims the key in that
    same transaction before the endpoint runs: the session that claims it is the one the endpoint's
    unit of work takes (``request.state.session``, see ``_open_uow``), and the response is stored in it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_transaction(request: Request) -> Response:
            key = idempotency.key_of(request)
            claimed: AsyncSession | None = None
            claim: tuple[str, str, str] | None = None  # principal, key, request digest
            try:
                if key is not None:
                    who = await authenticated(request)
                    digest = await idempotency.request_hash(request)
                    rt = current_runtime(request)
                    claimed = request.state.session = rt.sessions()
                    stored = await idempotency.claim(claimed, rt.spec.kit, who.sub, key, digest)
                    if stored is not None:
                        return stored
                    claim = (who.sub, key, digest)
                response = await handle(request)
                uow: UnitOfWork | None = getattr(request.state, "uow", None)
                if uow is not None:
                    if response.status_code < 400:
                        if claim is not None:
                            # In the claiming session (the uow's) and the service's schema, where it
                            # was looked up, whatever kit the uow writes.
                            await idempotency.remember(uow.session, rt.spec.kit, *claim, response)
                        await uow.commit()
                    else:
                        await uow.rollback()
                return response
            finally:
                # Closing the session ends its transaction, and with it the key's lock.
                uow = getattr(request.state, "uow", None)
                if uow is not None:
                    await uow.session.close()
                elif claimed is not None:
                    await claimed.close()

        return handle_in_transaction


def transactional_router(*, prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    """A router whose routes run in one transaction each (see TransactionalRoute)."""
    return APIRouter(prefix=prefix, tags=list(tags or []), route_class=TransactionalRoute)
