"""HTTP for dropout control (控辍保学): the county registers, targets, rates and assessments."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.calendar.schemas import Year
from dudao.encryption import field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, InvalidCursor, Limit, UpdatedSince, decode_cursor, next_cursor, page_of
from dudao.runtime import Runtime
from governance.dropout import service
from governance.dropout.models import DropoutPupil, DropoutStatus, DropoutTarget
from governance.dropout.schemas import (
    Assessed,
    AssessmentCreate,
    AssessmentPage,
    AssessmentRead,
    CountyRates,
    MeasureCreate,
    MeasureRead,
    PupilCreate,
    PupilDetail,
    PupilLookup,
    PupilPage,
    PupilRead,
    PupilReturn,
    PupilUpdate,
    TargetCreate,
    TargetPage,
    TargetRead,
    TargetUpdate,
)

router = transactional_router(prefix="/v1/dropout", tags=["dropout control"])


def _pupil(rt: Runtime, who: Inspecting, pupil: DropoutPupil, status: int = 200) -> Response:
    shown = service.shown(field_cipher(rt.settings), who, pupil)
    headers = {"ETag": etag(pupil.id, pupil.version)}
    if status == 201:
        headers["Location"] = f"/v1/dropout/pupils/{pupil.id}"
    return json_model(shown, status, headers)


def _pupil_page(rt: Runtime, who: Inspecting, pupils: list[DropoutPupil], limit: int) -> PupilPage:
    cipher = field_cipher(rt.settings)
    return PupilPage(
        items=[service.shown(cipher, who, p) for p in pupils[:limit]],
        next_cursor=next_cursor([p.id for p in pupils], limit),
    )


@router.post(
    "/pupils",
    status_code=201,
    response_model=PupilRead,
    responses=problems(service.PupilRegistered, service.NotTheKeeper, service.InvalidDropoutRecord),
)
async def register_pupil(body: PupilCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Enter a pupil who dropped out or is at risk in your county's register (county offices only). The
    name and ID number are sealed at rest."""
    pupil = await service.register(uow, who, rt.divisions, field_cipher(rt.settings), body)
    return _pupil(rt, who, pupil, 201)


@router.get("/pupils", response_model=PupilPage, responses=problems(InvalidCursor))
async def list_pupils(
    uow: UoW,
    who: Inspecting,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    status: Annotated[DropoutStatus | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> PupilPage:
    """The registers within your jurisdiction: names and ID numbers in full only for the county office
    that keeps them, masked for everyone else. Every pupil shown is an audit entry."""
    pupils = await service.page(
        uow,
        who,
        field_cipher(rt.settings),
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        status=status,
        updated_since=updated_since,
    )
    return _pupil_page(rt, who, pupils, limit)


@router.post("/pupils/lookup", response_model=PupilPage)
async def look_up_pupil(body: PupilLookup, uow: UoW, who: Inspecting, rt: Rt) -> PupilPage:
    """The pupils registered with this ID number within your jurisdiction (by its blind index; the number
    goes in the body, never in a URL). Audited like any read."""
    pupils = await service.page(
        uow, who, field_cipher(rt.settings), after=None, limit=50, id_number=body.id_number
    )
    return _pupil_page(rt, who, pupils, 50)


@router.get("/pupils/{pupil_id}", response_model=PupilDetail, responses=problems(service.PupilNotFound))
async def get_pupil(pupil_id: UUID, uow: UoW, who: Inspecting, rt: Rt) -> Response:
    """One pupil with the measures taken; 404 outside your jurisdiction. Audited."""
    pupil = await service.read(uow, who, pupil_id)
    shown = service.shown(field_cipher(rt.settings), who, pupil)
    detail = PupilDetail(
        **shown.model_dump(), measures=[MeasureRead.model_validate(m) for m in pupil.measures]
    )
    return json_model(detail, headers={"ETag": etag(pupil.id, pupil.version)})


_CHANGE_PROBLEMS = problems(
    service.PupilNotFound,
    service.NotTheKeeper,
    service.InvalidDropoutRecord,
    PreconditionFailed,
    PreconditionRequired,
)


@router.patch("/pupils/{pupil_id}", response_model=PupilRead, responses=_CHANGE_PROBLEMS)
async def update_pupil(
    pupil_id: UUID, body: PupilUpdate, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """Change a pupil's school, grade, reason or status (the keeping county office). Send ``If-Match``."""
    return _pupil(rt, who, await service.update(uow, who, pupil_id, if_match, body))


@router.post(
    "/pupils/{pupil_id}/return",
    response_model=PupilRead,
    responses={**_CHANGE_PROBLEMS, **problems(service.WrongPupilStatus)},
)
async def return_pupil(
    pupil_id: UUID, body: PupilReturn, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """The pupil is back at school (复学). Send ``If-Match``."""
    return _pupil(rt, who, await service.return_to_school(uow, who, pupil_id, if_match, body))


@router.post(
    "/pupils/{pupil_id}/measures",
    status_code=201,
    response_model=MeasureRead,
    responses=problems(service.PupilNotFound, service.NotTheKeeper, service.InvalidDropoutRecord),
)
async def take_measure(pupil_id: UUID, body: MeasureCreate, uow: UoW, who: Office) -> Response:
    """Record a measure taken to keep the pupil in school or bring them back (劝返)."""
    pupil, measure = await service.take_measure(uow, who, pupil_id, body)
    headers = {"Location": f"/v1/dropout/pupils/{pupil.id}", "ETag": etag(pupil.id, pupil.version)}
    return json_model(MeasureRead.model_validate(measure), 201, headers)


# --- targets, rates, assessments ----------------------------------------------------------------------


def _target(target: DropoutTarget | dict[str, object], status: int = 200) -> Response:
    read = TargetRead.model_validate(target)
    headers = {"ETag": etag(read.id, read.version)}
    if status == 201:
        headers["Location"] = f"/v1/dropout/targets/{read.id}"
    return json_model(read, status, headers)


@router.post(
    "/targets",
    status_code=201,
    response_model=TargetRead,
    responses=problems(service.TargetExists, DivisionOutsideJurisdiction),
)
async def set_target(body: TargetCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """A county's compulsory-education enrolment and dropout-rate target (‰) for a year."""
    return _target(await service.set_target(uow, who, rt.divisions, body), 201)


@router.get("/targets", response_model=TargetPage, responses=problems(InvalidCursor))
async def list_targets(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[Year | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> TargetPage:
    rows = await service.page_targets(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        within=within,
        year=year,
        updated_since=updated_since,
    )
    return page_of(TargetPage, TargetRead, rows, limit)


@router.get("/targets/{target_id}", response_model=TargetRead, responses=problems(service.TargetNotFound))
async def get_target(target_id: UUID, uow: UoW, who: Inspecting) -> Response:
    return _target(await service.get_target(uow, who, target_id))


@router.patch(
    "/targets/{target_id}",
    response_model=TargetRead,
    responses=problems(service.TargetNotFound, PreconditionFailed, PreconditionRequired),
)
async def update_target(
    target_id: UUID, body: TargetUpdate, uow: UoW, who: Office, if_match: IfMatch = None
) -> Response:
    """Change a county's enrolment or target. Send ``If-Match``."""
    return _target(await service.update_target(uow, who, target_id, if_match, body))


@router.get("/rates", response_model=CountyRates)
async def county_rates(
    uow: UoW, who: Inspecting, rt: Rt, year: Annotated[Year, Query()], within: Within = None
) -> CountyRates:
    """Each county with a target for the year: pupils at risk, out of school and returned, the rate of
    those out of school per thousand enrolled, and its target."""
    default = rt.settings.dropout_target_rate_permille
    return CountyRates(year=year, items=await service.rates(uow, who, year, within, default))


@router.post(
    "/assessments",
    response_model=Assessed,
    responses=problems(
        service.NotAboveTheCounty, service.GovernmentNotRegistered, service.InvalidDropoutRecord
    ),
)
async def assess(body: AssessmentCreate, uow: UoW, who: Office, rt: Rt) -> Assessed:
    """Assess the counties below you against their targets for the year, each county once: a county behind
    target gets a finding at its people's government, rectified through the rectification loop."""
    run = await service.assess(uow, who, rt.divisions, body, rt.settings.dropout_target_rate_permille)
    return Assessed(
        assessed=[AssessmentRead.model_validate(row) for row in run.assessed],
        already_assessed=run.already_assessed,
        without_target=run.without_target,
    )


@router.get("/assessments", response_model=AssessmentPage, responses=problems(InvalidCursor))
async def list_assessments(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[Year | None, Query()] = None,
) -> AssessmentPage:
    rows = await service.page_assessments(
        uow, who, after=decode_cursor(cursor), limit=limit + 1, within=within, year=year
    )
    return page_of(AssessmentPage, AssessmentRead, rows, limit)
