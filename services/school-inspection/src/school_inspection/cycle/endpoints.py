"""HTTP for comprehensive supervision cycles (综合督导): plan a county's cycle, follow its coverage."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response

from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import problems
from dudao.http.dependencies import UoW
from dudao.http.params import Inspecting, Office, Rt
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, decode_cursor, page_of
from school_inspection.cycle import service
from school_inspection.cycle.schemas import CoverageRead, CyclePage, CyclePlan, CycleRead, CycleSummary

router = transactional_router(prefix="/v1/cycles", tags=["comprehensive supervision cycles"])


@router.post(
    "",
    status_code=201,
    response_model=CycleRead,
    responses=problems(
        InvalidDivisionCode, DivisionOutsideJurisdiction, service.CycleOverlaps, service.NoSchools
    ),
)
async def plan_cycle(body: CyclePlan, uow: UoW, who: Office, rt: Rt, response: Response) -> CycleRead:
    """Plan a county's comprehensive supervision cycle from ``start_year``: every school once, spread over
    the policy's years (Guangxi: 5) as evenly as possible, in school-code order."""
    cycle = await service.plan(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/cycles/{cycle.id}"
    return cycle


@router.get("", response_model=CyclePage)
async def list_cycles(uow: UoW, who: Inspecting, cursor: Cursor = None, limit: Limit = 50) -> CyclePage:
    """Cycles within your jurisdiction, oldest first."""
    rows = await service.page(uow, who, after=decode_cursor(cursor), limit=limit)
    return page_of(CyclePage, CycleSummary, rows, limit)


@router.get("/{cycle_id}", response_model=CycleRead, responses=problems(service.CycleNotFound))
async def get_cycle(cycle_id: UUID, uow: UoW, who: Inspecting) -> CycleRead:
    """One cycle with the number of schools planned in each year."""
    return await service.get(uow, who, cycle_id)


@router.get("/{cycle_id}/coverage", response_model=CoverageRead, responses=problems(service.CycleNotFound))
async def cycle_coverage(cycle_id: UUID, uow: UoW, who: Inspecting) -> CoverageRead:
    """Year by year, each planned school's status: ``covered`` (a comprehensive visit — kind special,
    comprehensive — in its planned year), ``covered_early`` / ``covered_late`` (in another year of the
    cycle), ``late`` (its year is over without one), ``due`` (this year) or ``upcoming``."""
    return await service.coverage(uow, who, cycle_id)
