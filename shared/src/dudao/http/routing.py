"""Routes whose transaction commits after the endpoint returns and before the response is sent."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from dudao.http import idempotency
from dudao.http.dependencies import authenticated, current_runtime
from dudao.uow import UnitOfWork


class TransactionalRoute(APIRoute):
    """One transaction per request: a successful response commits it, anything else rolls it back.

    Committing here, rather than after a dependency's ``yield``, guarantees the client never sees a
    2xx for a write that then failed to commit. POSTs with an Idempotency-Key store their response in
    the same transaction and replay it on a retry.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_transaction(request: Request) -> Response:
            key = idempotency.key_of(request)
            replay: tuple[str, str] | None = None
            if key is not None:
                who = await authenticated(request)
                digest = await idempotency.request_hash(request)
                rt = current_runtime(request)
                async with rt.sessions() as session:
                    stored = await idempotency.stored_response(session, rt.spec.kit, who.sub, key, digest)
                if stored is not None:
                    return stored
                replay = (who.sub, digest)
            try:
                response = await handle(request)
                uow: UnitOfWork | None = getattr(request.state, "uow", None)
                if uow is not None:
                    if response.status_code < 400:
                        if key is not None and replay is not None:
                            # Stored where it was looked up: the service's schema, whatever the uow writes.
                            kit = current_runtime(request).spec.kit
                            await idempotency.remember(uow.session, kit, replay[0], key, replay[1], response)
                        await uow.commit()
                    else:
                        await uow.rollback()
                return response
            finally:
                uow = getattr(request.state, "uow", None)
                if uow is not None:
                    await uow.session.close()

        return handle_in_transaction


def transactional_router(*, prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    """A router whose routes run in one transaction each (see TransactionalRoute)."""
    return APIRouter(prefix=prefix, tags=list(tags or []), route_class=TransactionalRoute)
