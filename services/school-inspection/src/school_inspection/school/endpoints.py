"""HTTP for schools: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Query, Response

from dudao.auth.principal import Principal, Role
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW, require, runtime
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor
from dudao.runtime import Runtime
from school_inspection.school import service
from school_inspection.school.models import School
from school_inspection.school.schemas import SchoolCreate, SchoolPage, SchoolRead, SchoolUpdate

router = transactional_router(prefix="/v1/schools", tags=["schools"])
Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]


def _read(school: School, response: Response) -> SchoolRead:
    response.headers["ETag"] = etag(school.id, school.version)
    return SchoolRead.model_validate(school)


@router.post(
    "",
    status_code=201,
    response_model=SchoolRead,
    responses=problems(service.SchoolCodeTaken, service.DivisionOutsideJurisdiction),
)
async def register_school(
    body: SchoolCreate, uow: UoW, who: Office, response: Response, rt: Annotated[Runtime, Depends(runtime)]
) -> SchoolRead:
    """Register a school (学校) in a county within your jurisdiction."""
    school = await service.register(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/schools/{school.id}"
    return _read(school, response)


@router.get("", response_model=SchoolPage)
async def list_schools(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Annotated[
        str | None,
        Query(pattern=r"^[1-9][0-9]{1,5}$", description="Only schools under this division-code prefix"),
    ] = None,
    updated_since: Annotated[datetime | None, Query(description="Mobile sync: rows changed since")] = None,
) -> SchoolPage:
    """Schools within your jurisdiction, by id; with ``updated_since``, by change time for syncing."""
    rows = await service.page(
        uow, who, after=decode_cursor(cursor), limit=limit, within=within, updated_since=updated_since
    )
    return SchoolPage(
        items=[SchoolRead.model_validate(s) for s in rows[:limit]],
        next_cursor=next_cursor([s.id for s in rows], limit),
    )


@router.get("/{school_id}", response_model=SchoolRead, responses=problems(service.SchoolNotFound))
async def get_school(school_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response) -> SchoolRead:
    """One school; 404 if it does not exist or lies outside your jurisdiction."""
    return _read(await service.get(uow, who, school_id), response)


@router.patch(
    "/{school_id}",
    response_model=SchoolRead,
    responses=problems(service.SchoolNotFound, PreconditionFailed, PreconditionRequired),
)
async def update_school(
    school_id: UUID,
    body: SchoolUpdate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> SchoolRead:
    """Change a school's details. Send ``If-Match`` with the ETag you read."""
    return _read(await service.update(uow, who, school_id, if_match, body), response)
