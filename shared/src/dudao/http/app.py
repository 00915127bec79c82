"""The app factory: every service is built the same way from its ServiceSpec."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from dudao.clock import Clock
from dudao.clock import clock as default_clock
from dudao.config import Settings
from dudao.errors import install_problem_handlers
from dudao.http.middleware import RequestContextMiddleware
from dudao.http.openapi import problem_documented_openapi
from dudao.http.ratelimit import RateLimits, admit_address
from dudao.http.routing import TransactionalRoute
from dudao.http.storable import refuse_unstorable_text
from dudao.http.system import divisions_router, system_router
from dudao.logging import configure_logging
from dudao.runtime import Runtime
from dudao.service import ServiceSpec


def create_service_app(
    spec: ServiceSpec, settings: Settings | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or Settings.for_service(spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, level=settings.log_level, json=settings.log_json)
        app.state.runtime = await Runtime.start(spec, settings, clock or default_clock)
        # What start-up built (models, routes, the division tree) lives as long as the process: out of the
        # collector's sight, so that its full collections under load do not walk it again and again.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.runtime.stop()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        # Every route, before its endpoint: the address's rate limit; NUL and lone surrogates are a 422,
        # never a failed statement.
        dependencies=[Depends(admit_address), Depends(refuse_unstorable_text)],
    )
    app.state.rate_limits = RateLimits(settings)
    app.router.route_class = TransactionalRoute
    app.openapi = problem_documented_openapi(app)  # type: ignore[method-assign]
    install_problem_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        service=spec.name,
        max_body_bytes=settings.max_body_bytes,
        max_query_bytes=settings.max_query_bytes,
        max_upload_bytes=settings.evidence_max_bytes + 65_536,
    )
    app.include_router(system_router)
    app.include_router(divisions_router)
    for router in spec.routers:
        app.include_router(router)
    return app
