"""HTTP for committees, member units and liaisons: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Response

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import InvalidDivisionCode
from dudao.encryption import FieldCipher, field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW, require
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page
from dudao.runtime import Runtime
from governance.committee import service
from governance.committee.schemas import (
    CommitteeCreate,
    CommitteeDirectory,
    CommitteePage,
    CommitteeRead,
    CommitteeUpdate,
    LiaisonCreate,
    LiaisonRead,
    LiaisonUpdate,
    MemberCreate,
    MemberRead,
    MemberUpdate,
)
from governance.office.service import NotTheOffice

router = transactional_router(prefix="/v1/committees", tags=["committees"])

# Liaisons are named by the office or by the member unit itself.
OfficeOrMember = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.MEMBER_UNIT))]
_CHANGE = (PreconditionFailed, PreconditionRequired)


def _created(body: Any, location: str, record_id: UUID, version: int) -> Response:
    return json_model(body, 201, {"Location": location, "ETag": etag(record_id, version)})


def _tagged(response: Response, record_id: UUID, version: int) -> None:
    response.headers["ETag"] = etag(record_id, version)


def _cipher(rt: Runtime) -> FieldCipher:
    return field_cipher(rt.settings)


@router.post(
    "",
    status_code=201,
    response_model=CommitteeRead,
    responses=problems(
        service.CommitteeFormed,
        service.UnknownOffice,
        NotTheOffice,
        InvalidDivisionCode,
        DivisionOutsideJurisdiction,
    ),
)
async def form_committee(body: CommitteeCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Record your division's education supervision committee (教育督导委员会): chair, vice chairs, chief
    and deputy chief inspectors, and the office that does its daily work."""
    row = await service.form(uow, who, rt.divisions, body)
    return _created(
        CommitteeRead.model_validate(row), f"/v1/committees/{row['id']}", row["id"], row["version"]
    )


@router.get("", response_model=CommitteePage)
async def list_committees(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Committees within your jurisdiction (a member unit: its own), by id; with ``updated_since``, by
    change time."""
    rows = await service.page(
        uow, who, after=decode_cursor(cursor), limit=limit, within=within, updated_since=updated_since
    )
    return json_page(CommitteePage, rows, limit)


@router.get(
    "/{committee_id}", response_model=CommitteeDirectory, responses=problems(service.CommitteeNotFound)
)
async def committee_directory(
    committee_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt, response: Response
) -> CommitteeDirectory:
    """The committee's directory: its people, member units with their duties, and their liaisons (contacts
    in full for the office and the liaison's own member unit, masked for anyone else). A member unit reads
    its own committee's only."""
    directory = await service.directory(uow, who, _cipher(rt), committee_id)
    _tagged(response, directory.id, directory.version)
    return directory


@router.patch(
    "/{committee_id}",
    response_model=CommitteeRead,
    responses=problems(service.CommitteeNotFound, NotTheOffice, *_CHANGE),
)
async def update_committee(
    committee_id: UUID,
    body: CommitteeUpdate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> CommitteeRead:
    """Change the committee's name or people. Send ``If-Match``."""
    row = await service.update(uow, who, committee_id, if_match, body)
    _tagged(response, row["id"], row["version"])
    return CommitteeRead.model_validate(row)


@router.post(
    "/{committee_id}/members",
    status_code=201,
    response_model=MemberRead,
    responses=problems(service.CommitteeNotFound, service.MemberTaken, NotTheOffice),
)
async def add_member(committee_id: UUID, body: MemberCreate, uow: UoW, who: Office) -> Response:
    """Add a member unit (成员单位) with its duties."""
    row = await service.add_member(uow, who, committee_id, body)
    location = f"/v1/committees/{committee_id}/members/{row['id']}"
    return _created(MemberRead.model_validate(row), location, row["id"], row["version"])


@router.patch(
    "/{committee_id}/members/{member_id}",
    response_model=MemberRead,
    responses=problems(
        service.CommitteeNotFound, service.MemberNotFound, service.MemberTaken, NotTheOffice, *_CHANGE
    ),
)
async def update_member(
    committee_id: UUID,
    member_id: UUID,
    body: MemberUpdate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> MemberRead:
    """Change a member unit's name or duties. Send ``If-Match``."""
    row = await service.update_member(uow, who, committee_id, member_id, if_match, body)
    _tagged(response, row["id"], row["version"])
    return MemberRead.model_validate(row)


@router.post(
    "/{committee_id}/members/{member_id}/liaisons",
    status_code=201,
    response_model=LiaisonRead,
    responses=problems(
        service.CommitteeNotFound, service.MemberNotFound, service.NotTheMemberUnit, NotTheOffice
    ),
)
async def name_liaison(
    committee_id: UUID, member_id: UUID, body: LiaisonCreate, uow: UoW, who: OfficeOrMember, rt: Rt
) -> Response:
    """Name a liaison (联络员) of a member unit, with contacts: as the member unit itself or the office."""
    read = await service.name_liaison(uow, who, _cipher(rt), committee_id, member_id, body)
    return _created(read, f"/v1/committees/{committee_id}/liaisons/{read.id}", read.id, read.version)


@router.patch(
    "/{committee_id}/liaisons/{liaison_id}",
    response_model=LiaisonRead,
    responses=problems(
        service.CommitteeNotFound, service.LiaisonNotFound, service.NotTheMemberUnit, NotTheOffice, *_CHANGE
    ),
)
async def update_liaison(
    committee_id: UUID,
    liaison_id: UUID,
    body: LiaisonUpdate,
    uow: UoW,
    who: OfficeOrMember,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> LiaisonRead:
    """Change a liaison's name, post or contacts. Send ``If-Match``."""
    read = await service.update_liaison(uow, who, _cipher(rt), committee_id, liaison_id, if_match, body)
    _tagged(response, read.id, read.version)
    return read
