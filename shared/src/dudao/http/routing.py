"""Routes whose transaction commits after the endpoint returns and before the response is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi import APIRouter
from fastapi.routing import APIRoute

from dudao.uow import UnitOfWork


class TransactionalRoute(APIRoute):
    """One transaction per request: a successful response commits it, anything else rolls it back.

    Committing here, rather than after a dependency's ``yield``, guarantees the client never sees a
    2xx for a write that then failed to commit.
    """

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handle = super().get_route_handler()

        async def handle_in_transaction(request: Request) -> Response:
            try:
                response = await handle(request)
                uow: UnitOfWork | None = getattr(request.state, "uow", None)
                if uow is not None:
                    if response.status_code < 400:
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
