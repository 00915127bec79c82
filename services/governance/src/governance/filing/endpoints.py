"""HTTP for upward filing: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response

from dudao.errors import InvalidInput, PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page
from governance.filing import service
from governance.filing.models import FilingKind
from governance.filing.schemas import (
    FilingCreate,
    FilingDecision,
    FilingOverview,
    FilingPage,
    FilingRead,
    FilingRevision,
)

router = transactional_router(prefix="/v1/filings", tags=["upward filing"])

Year = Annotated[int | None, Query(ge=2000, le=2100)]
Division = Annotated[str | None, Query(pattern=r"^[1-9][0-9]{5}$", description="6-digit division code")]
_CHANGE = (service.FilingNotFound, service.FilingWrongStatus, PreconditionFailed, PreconditionRequired)


def _read(row: dict[str, Any], response: Response) -> FilingRead:
    response.headers["ETag"] = etag(row["id"], row["version"])
    return FilingRead.model_validate(row)


@router.post(
    "",
    status_code=201,
    response_model=FilingRead,
    responses=problems(
        service.OfficeNotRecorded, service.NoSuperiorOffice, service.WorkPlanFiled, InvalidInput
    ),
)
async def file_upward(body: FilingCreate, uow: UoW, who: Office) -> Response:
    """File your office's annual work plan, a major matter or supervision results with the office above."""
    row = await service.file(uow, who, body)
    headers = {"Location": f"/v1/filings/{row['id']}", "ETag": etag(row["id"], row["version"])}
    return json_model(FilingRead.model_validate(row), 201, headers)


@router.get("", response_model=FilingPage)
async def list_filings(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Year = None,
    kind: FilingKind | None = None,
    superior_division: Division = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Filings within your jurisdiction (``superior_division``: those filed with that office), by id; with
    ``updated_since``, by change time."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        year=year,
        kind=kind,
        superior_division=superior_division,
        updated_since=updated_since,
    )
    return json_page(FilingPage, rows, limit)


@router.get("/overview", response_model=FilingOverview, responses=problems(DivisionOutsideJurisdiction))
async def filing_overview(
    uow: UoW, who: Office, rt: Rt, year: Year = None, division: Division = None
) -> FilingOverview:
    """At a glance, for your office (or ``division``'s within your jurisdiction): what each direct
    subordinate has filed this year (or ``year``), per kind: missing, filed, returned or acknowledged."""
    return await service.overview(
        uow,
        who,
        rt.divisions,
        division or who.division,
        year or uow.clock.today().year,
        rt.settings.filing_work_plan_due,
    )


@router.get("/{filing_id}", response_model=FilingRead, responses=problems(service.FilingNotFound))
async def get_filing(filing_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response) -> FilingRead:
    """One filing; 404 if it does not exist or lies outside your jurisdiction."""
    filing = await service.get(uow, who, filing_id)
    response.headers["ETag"] = etag(filing.id, filing.version)
    return FilingRead.model_validate(filing)


@router.post(
    "/{filing_id}/decision",
    response_model=FilingRead,
    responses=problems(service.NotTheSuperiorOffice, InvalidInput, *_CHANGE),
)
async def decide_filing(
    filing_id: UUID, body: FilingDecision, uow: UoW, who: Office, response: Response, if_match: IfMatch = None
) -> FilingRead:
    """As the office it was filed with: acknowledge it, or return it with comments. Send ``If-Match``."""
    return _read(await service.decide(uow, who, filing_id, if_match, body), response)


@router.post(
    "/{filing_id}/refile",
    response_model=FilingRead,
    responses=problems(service.NotTheFilingOffice, *_CHANGE),
)
async def refile(
    filing_id: UUID, body: FilingRevision, uow: UoW, who: Office, response: Response, if_match: IfMatch = None
) -> FilingRead:
    """File a returned filing again, revised. Send ``If-Match``."""
    return _read(await service.refile(uow, who, filing_id, if_match, body), response)
