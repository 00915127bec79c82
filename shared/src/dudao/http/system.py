"""Routes every service has: health, readiness, metrics, the clock and the divisions it serves.

Moving the clock (``clock_router``) is mounted on one service only (governance).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.responses import JSONResponse

from dudao import clock_sync
from dudao.auth.principal import Principal, Role
from dudao.clock import Clock
from dudao.clock_sync import ClockAdvance, ClockNotAdjustable, ClockRead
from dudao.db import database_reachable
from dudao.divisions.tree import jurisdiction_prefix, level_of
from dudao.errors import problems
from dudao.http.dependencies import CommonUoW, CurrentPrincipal, require, runtime
from dudao.http.routing import transactional_router
from dudao.runtime import Runtime

system_router = APIRouter(tags=["system"])
divisions_router = APIRouter(prefix="/v1/divisions", tags=["divisions"])
clock_router = transactional_router(prefix="/v1/clock", tags=["clock"])


class Health(BaseModel):
    status: Literal["ok"]
    service: str


class Readiness(BaseModel):
    status: Literal["ready", "not-ready"]
    database: bool
    nats: bool


@system_router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz(rt: Annotated[Runtime, Depends(runtime)]) -> Health:
    """Answers 200 while the process runs; it checks nothing else."""
    return Health(status="ok", service=rt.spec.name)


@system_router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: database and NATS reachable",
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
)
async def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> JSONResponse:
    """200 when the database answers and NATS is connected, 503 otherwise."""
    database = await database_reachable(rt.engine)
    ready = database and rt.nats_ready
    body = Readiness(status="ready" if ready else "not-ready", database=database, nats=rt.nats_ready)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@system_router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    """Request counts and latencies in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@system_router.get(
    "/v1/clock", response_model=ClockRead, tags=["clock"], summary="The time as this process sees it"
)
async def read_clock(who: CurrentPrincipal, rt: Annotated[Runtime, Depends(runtime)]) -> ClockRead:
    """Now (UTC), the business date (Asia/Shanghai) and how far the clock was moved ahead of real time."""
    return ClockRead.of(rt.clock, rt.settings.clock_adjustable)


@clock_router.post("/advance", response_model=ClockRead, responses=problems(ClockNotAdjustable))
async def advance_clock(
    body: ClockAdvance,
    uow: CommonUoW,
    who: Annotated[Principal, Depends(require(Role.PLATFORM_ADMIN))],
    rt: Annotated[Runtime, Depends(runtime)],
) -> ClockRead:
    """Move time forward in every process of the suite (development, tests and demos only).

    The answer is the time as the suite will see it, within a second or two, once the move is published.
    """
    moved = await clock_sync.advance(uow, who, body.delta, rt.settings)
    return ClockRead.of(Clock(timedelta(seconds=moved.offset_seconds)), adjustable=True)


class DivisionRead(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


@divisions_router.get("", response_model=list[DivisionRead], summary="Divisions within your jurisdiction")
async def list_divisions(
    who: CurrentPrincipal,
    rt: Annotated[Runtime, Depends(runtime)],
    within: Annotated[
        str | None, Query(pattern=r"^[1-9][0-9]{5}$", description="Only this division's subtree")
    ] = None,
) -> list[DivisionRead]:
    """The region/city/county tree, limited to what the caller may see (行政区划)."""
    divisions = rt.divisions.all()
    if within is not None:
        level_of(within)
        prefix = jurisdiction_prefix(within)
        divisions = [d for d in divisions if d.code.startswith(prefix)]
    return [
        DivisionRead(code=d.code, name=d.name, level=d.level, parent_code=d.parent_code)
        for d in divisions
        if who.can_see(d.code)
    ]
