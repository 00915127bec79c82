"""HTTP for supervision offices: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Response

from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page
from governance.office import service
from governance.office.schemas import OfficeCreate, OfficePage, OfficeRead, OfficeUpdate

router = transactional_router(prefix="/v1/supervision-offices", tags=["supervision offices"])


def _read(row: Any, response: Response) -> OfficeRead:
    read = OfficeRead.model_validate(row)
    response.headers["ETag"] = etag(read.id, read.version)
    return read


@router.post(
    "",
    status_code=201,
    response_model=OfficeRead,
    responses=problems(
        service.OfficeRecorded,
        service.AbbreviationTaken,
        service.NotTheOffice,
        InvalidDivisionCode,
        DivisionOutsideJurisdiction,
    ),
)
async def record_office(body: OfficeCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Record your division's supervision office (督导机构), with the abbreviation (机关代字) its document
    numbers use; one office per division."""
    row = await service.record(uow, who, rt.divisions, body)
    headers = {"Location": f"/v1/supervision-offices/{row['id']}", "ETag": etag(row["id"], row["version"])}
    return json_model(OfficeRead.model_validate(row), 201, headers)


@router.get("", response_model=OfficePage)
async def list_offices(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """The offices within your jurisdiction, by id; with ``updated_since``, by change time."""
    rows = await service.page(
        uow, who, after=decode_cursor(cursor), limit=limit, within=within, updated_since=updated_since
    )
    return json_page(OfficePage, rows, limit)


@router.get("/{office_id}", response_model=OfficeRead, responses=problems(service.OfficeNotFound))
async def get_office(office_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response) -> OfficeRead:
    """One office; 404 if it does not exist or lies outside your jurisdiction."""
    return _read(await service.get(uow, who, office_id), response)


@router.patch(
    "/{office_id}",
    response_model=OfficeRead,
    responses=problems(
        service.OfficeNotFound,
        service.AbbreviationTaken,
        service.NotTheOffice,
        PreconditionFailed,
        PreconditionRequired,
    ),
)
async def update_office(
    office_id: UUID, body: OfficeUpdate, uow: UoW, who: Office, response: Response, if_match: IfMatch = None
) -> OfficeRead:
    """Change your office's name or abbreviation (a new version, and its event). Send ``If-Match``."""
    return _read(await service.update(uow, who, office_id, if_match, body), response)
