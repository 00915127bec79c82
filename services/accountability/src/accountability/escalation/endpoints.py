"""HTTP for ladders, cases and manual steps: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response

from accountability.documents.service import DivisionOutsideJurisdiction
from accountability.escalation import service
from accountability.escalation.models import CaseStatus
from accountability.escalation.schemas import (
    CaseDetail,
    CasePage,
    CaseRead,
    LadderCreate,
    LadderPage,
    LadderRead,
    ManualStepCreate,
    StepRead,
)
from dudao.auth.principal import Principal, Role
from dudao.errors import problems
from dudao.http.dependencies import CurrentPrincipal, UoW, require, runtime
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor
from dudao.runtime import Runtime

router = transactional_router(tags=["escalation"])
Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]


@router.get("/v1/escalation/ladders", response_model=LadderPage)
async def list_ladders(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    finding_category: Annotated[str | None, Query(max_length=100)] = None,
    active: Annotated[bool | None, Query(description="Only the versions that apply to new cases")] = None,
) -> LadderPage:
    """The ladders that can apply within your jurisdiction, every version."""
    rows = await service.ladder_page(
        uow, who, after=decode_cursor(cursor), limit=limit, category=finding_category, active=active
    )
    return LadderPage(
        items=[LadderRead.model_validate(ladder) for ladder in rows[:limit]],
        next_cursor=next_cursor([ladder.id for ladder in rows], limit),
    )


@router.post(
    "/v1/escalation/ladders",
    status_code=201,
    response_model=LadderRead,
    responses=problems(service.LadderOutsideJurisdiction),
)
async def create_ladder(body: LadderCreate, uow: UoW, who: Office) -> LadderRead:
    """Version the ladder of a finding category and division prefix.

    Platform administrators version any ladder; an office those of its own jurisdiction. The new version
    applies to cases opened from now on; open cases keep the version they started with.
    """
    return LadderRead.model_validate(await service.create_ladder(uow, who, body))


@router.get("/v1/cases", response_model=CasePage)
async def list_cases(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: Annotated[CaseStatus | None, Query()] = None,
    rectification_id: Annotated[str | None, Query(max_length=64)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
) -> CasePage:
    """Escalation cases within your jurisdiction (a supervised unit: its own)."""
    rows = await service.case_page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        status=status,
        rectification_id=rectification_id,
        unit_id=unit_id,
    )
    return CasePage(
        items=[CaseRead.model_validate(case) for case in rows[:limit]],
        next_cursor=next_cursor([case.id for case in rows], limit),
    )


@router.get("/v1/cases/{case_id}", response_model=CaseDetail, responses=problems(service.CaseNotFound))
async def get_case(case_id: UUID, uow: UoW, who: CurrentPrincipal) -> CaseDetail:
    """One case with its steps, the facts it heard and its documents; 404 outside your jurisdiction."""
    return CaseDetail.model_validate(await service.get_case(uow, who, case_id))


@router.post(
    "/v1/escalation/steps",
    status_code=201,
    response_model=StepRead,
    responses=problems(service.CaseNotFound, service.CaseClosed, DivisionOutsideJurisdiction),
)
async def order_step(
    body: ManualStepCreate,
    uow: UoW,
    who: Office,
    response: Response,
    rt: Annotated[Runtime, Depends(runtime)],
) -> StepRead:
    """Order a step by hand: on an open case, or against a unit without a rectification (for example an
    interview for refusing supervision, 拒不接受督导). Your office issues its document."""
    step = await service.order_step(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/documents/{step.document_id}"
    return StepRead.model_validate(step)
