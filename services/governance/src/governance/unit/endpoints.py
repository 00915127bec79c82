"""HTTP for supervised units: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Response

from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import InvalidInput, PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page
from governance.unit import service
from governance.unit.models import SupervisedUnitKind
from governance.unit.schemas import (
    ImportedUnits,
    SupervisedUnitCreate,
    SupervisedUnitImport,
    SupervisedUnitPage,
    SupervisedUnitRead,
    SupervisedUnitUpdate,
)

router = transactional_router(prefix="/v1/supervised-units", tags=["supervised units"])


def _read(row: dict[str, Any], response: Response) -> SupervisedUnitRead:
    response.headers["ETag"] = etag(row["id"], row["version"])
    return SupervisedUnitRead.model_validate(row)


@router.post(
    "",
    status_code=201,
    response_model=SupervisedUnitRead,
    responses=problems(
        service.SupervisedUnitTaken,
        service.UnknownSupervisedUnit,
        InvalidDivisionCode,
        DivisionOutsideJurisdiction,
    ),
)
async def register_unit(body: SupervisedUnitCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Register a supervised unit that is not a school: a people's government or one of its departments."""
    row = await service.register(uow, who, rt.divisions, body)
    headers = {"Location": f"/v1/supervised-units/{row['id']}", "ETag": etag(row["id"], row["version"])}
    return json_model(SupervisedUnitRead.model_validate(row), 201, headers)


@router.post(
    "/import",
    response_model=ImportedUnits,
    responses=problems(
        service.SupervisedUnitTaken, service.UnknownSupervisedUnit, InvalidInput, DivisionOutsideJurisdiction
    ),
)
async def import_units(body: SupervisedUnitImport, uow: UoW, who: Office, rt: Rt) -> ImportedUnits:
    """Register many units at once, in one statement: all of them, or (a bad one named) none."""
    rows = await service.import_units(uow, who, rt.divisions, body.units)
    return ImportedUnits(inserted=len(rows), ids=[r["id"] for r in rows])


@router.get("", response_model=SupervisedUnitPage)
async def list_units(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    kind: SupervisedUnitKind | None = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Units within your jurisdiction, by id (a supervised unit sees its own); with ``updated_since``, by
    change time for syncing."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        kind=kind,
        updated_since=updated_since,
    )
    return json_page(SupervisedUnitPage, rows, limit)


@router.get(
    "/{unit_id}", response_model=SupervisedUnitRead, responses=problems(service.SupervisedUnitNotFound)
)
async def get_unit(unit_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response) -> SupervisedUnitRead:
    """One unit; 404 if it does not exist or lies outside your jurisdiction."""
    unit = await service.get_unit(uow, who, str(unit_id))
    response.headers["ETag"] = etag(unit.id, unit.version)
    return SupervisedUnitRead.model_validate(unit)


@router.patch(
    "/{unit_id}",
    response_model=SupervisedUnitRead,
    responses=problems(
        service.SupervisedUnitNotFound,
        service.SupervisedUnitTaken,
        service.UnknownSupervisedUnit,
        PreconditionFailed,
        PreconditionRequired,
    ),
)
async def update_unit(
    unit_id: UUID,
    body: SupervisedUnitUpdate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> SupervisedUnitRead:
    """Change a unit's name, competent department or responsible people. Send ``If-Match``."""
    return _read(await service.update(uow, who, unit_id, if_match, body), response)
