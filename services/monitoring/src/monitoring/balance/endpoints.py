"""HTTP for balanced development (优质均衡): evaluate counties, read their verdicts, ask what-ifs."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import problems
from dudao.etag import etag
from dudao.http.dependencies import UoW
from dudao.http.params import DivisionPath, Inspecting, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, page_of
from monitoring.balance import service
from monitoring.balance.compute import Status
from monitoring.balance.schemas import (
    Evaluated,
    EvaluationRequest,
    VerdictPage,
    VerdictRead,
    VerdictSummary,
    WhatIfRead,
    WhatIfRequest,
)
from monitoring.indicator.service import SystemNotFound

router = transactional_router(prefix="/v1/balance", tags=["balanced development"])


@router.post(
    "/evaluations",
    response_model=Evaluated,
    responses=problems(
        SystemNotFound,
        service.UnsupportedSystem,
        DivisionOutsideJurisdiction,
        service.EvaluatedConcurrently,
    ),
)
async def evaluate(body: EvaluationRequest, uow: UoW, who: Office, rt: Rt) -> Evaluated:
    """Evaluate a county, or every county under a city or the region, for a year: each verdict is kept
    with every figure behind it, and each criterion a county newly fails raises a finding at the county
    government (monitoring's rectification loop)."""
    done = await service.evaluate(uow, who, rt.divisions, body)
    return Evaluated(
        verdicts=[VerdictSummary.model_validate(r) for r in done.verdicts],
        findings_raised=done.findings_raised,
    )


@router.get("/verdicts", response_model=VerdictPage)
async def list_verdicts(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Status | None = None,
    updated_since: UpdatedSince = None,
) -> VerdictPage:
    """The verdicts of the counties within your jurisdiction, by id; with ``updated_since``, by change."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        year=year,
        status=status,
        updated_since=updated_since,
    )
    return page_of(VerdictPage, VerdictSummary, rows, limit)


@router.get("/verdicts/{verdict_id}", response_model=VerdictRead, responses=problems(service.VerdictNotFound))
async def get_verdict(verdict_id: UUID, uow: UoW, who: Inspecting) -> Response:
    """A verdict with every figure behind it: per school, per stage, per indicator; each CV with its limit."""
    found = await service.get(uow, who, verdict_id)
    return json_model(VerdictRead.model_validate(found), headers={"ETag": etag(found.id, found.version)})


@router.post(
    "/counties/{county}/what-if",
    response_model=WhatIfRead,
    responses=problems(
        SystemNotFound,
        service.UnsupportedSystem,
        service.InvalidWhatIf,
        InvalidDivisionCode,
        DivisionOutsideJurisdiction,
    ),
)
async def what_if(county: DivisionPath, body: WhatIfRequest, uow: UoW, who: Office, rt: Rt) -> WhatIfRead:
    """The verdict the county would get if some values were as given (a school's or the county's): the
    approved values stay as they are, and nothing is written."""
    result, rules = await service.what_if(uow, who, rt.divisions, county, body)
    return WhatIfRead.model_validate(
        {
            "division_code": result.county,
            "year": result.year,
            "status": result.status,
            "failed": [c.code for c in result.failed],
            "figures": service.figures(result, rules),
        }
    )
