"""HTTP for schools: parse, authorise, call the service, shape the response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Header, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from dudao.auth.principal import Principal
from dudao.encryption import field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page
from dudao.runtime import Runtime
from school_inspection.school import importing, service
from school_inspection.school.models import School
from school_inspection.school.schemas import ImportedRows, SchoolCreate, SchoolPage, SchoolRead, SchoolUpdate

router = transactional_router(prefix="/v1/schools", tags=["schools"])


def _read(rt: Runtime, who: Principal, school: School, response: Response) -> SchoolRead:
    """The school as ``who`` may see it (the principal's phone masked unless an office or an inspector)."""
    response.headers["ETag"] = etag(school.id, school.version)
    return SchoolRead.model_validate(service.shown_school(field_cipher(rt.settings), who, school))


@router.post(
    "",
    status_code=201,
    response_model=SchoolRead,
    responses=problems(service.SchoolCodeTaken, DivisionOutsideJurisdiction),
)
async def register_school(body: SchoolCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Register a school (学校) in a county within your jurisdiction."""
    cipher = field_cipher(rt.settings)
    school = await service.register(uow, who, rt.divisions, cipher, body)
    headers = {"Location": f"/v1/schools/{school['id']}", "ETag": etag(school["id"], school["version"])}
    return json_model(SchoolRead.model_validate(service.shown(cipher, who, school)), 201, headers)


@router.get("", response_model=SchoolPage)
async def list_schools(
    uow: UoW,
    who: CurrentPrincipal,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Schools within your jurisdiction, by id; with ``updated_since``, by change time for syncing.
    Principals' phones in full for offices and inspectors (each school shown is an audit entry), masked
    for everyone else."""
    rows = await service.page(
        uow, who, after=decode_cursor(cursor), limit=limit, within=within, updated_since=updated_since
    )
    cipher = field_cipher(rt.settings)
    return json_page(SchoolPage, [service.shown(cipher, who, row) for row in rows], limit)


@router.post(
    "/import",
    response_model=ImportedRows,
    responses=problems(service.ImportRejected, importing.UnreadableFile),
)
async def import_schools(file: UploadFile, uow: UoW, who: Office, rt: Rt) -> ImportedRows:
    """Import a school register (multipart field ``file``): CSV (UTF-8 or GB18030) or Excel ``.xlsx``.

    The header names the columns: ``school_code, name, school_type, ownership, division_code, address``
    (required), ``enrolment, pupils_kindergarten, pupils_primary, pupils_junior, pupils_senior,
    pupils_vocational, principal_name, principal_phone, teaching_point`` (optional; ``teaching_point`` 是/否
    or yes/no): the columns of the export. A row
    whose school code is registered updates that school, any other registers a new one; each row is the
    school's whole record. The whole file is applied in one transaction, or, if any row is bad, nothing
    is: the 422 problem lists every bad cell as ``{row, column, reason}`` (the header is row 1).
    """
    data = await file.read()
    rows = await asyncio.to_thread(importing.read, file.filename, data)  # parsing is CPU work
    result = await service.import_rows(uow, who, rt.divisions, field_cipher(rt.settings), rows)
    return ImportedRows(
        rows=result.rows, inserted=result.inserted, updated=result.updated, unchanged=result.unchanged
    )


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The register, in the columns an import reads",
            "content": {"text/csv": {}, importing.XLSX_MEDIA_TYPE: {}},
        }
    },
)
async def export_schools(
    uow: UoW,
    who: CurrentPrincipal,
    rt: Rt,
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    within: Within = None,
) -> Response:
    """Your jurisdiction's schools (or those under ``within``) as CSV, streamed, or as an Excel workbook.
    Principals' phones as the list shows them; an export with them in full is audited."""
    service.record_export(uow, who, within)
    cipher = field_cipher(rt.settings)
    disposition = {"Content-Disposition": f'attachment; filename="schools-{within or who.division}.{fmt}"'}
    if fmt == "xlsx":
        async with rt.sessions() as session:
            rows = [row async for row in service.export(session, cipher, who, within)]
        data = await asyncio.to_thread(importing.xlsx_bytes, rows)
        return Response(data, media_type=importing.XLSX_MEDIA_TYPE, headers=disposition)

    async def chunks() -> AsyncIterator[str]:
        # Its own session: the response streams after the request's unit of work has closed.
        async with rt.sessions() as session:
            async for chunk in importing.csv_chunks(service.export(session, cipher, who, within)):
                yield chunk

    return StreamingResponse(chunks(), media_type=importing.CSV_MEDIA_TYPE, headers=disposition)


@router.get("/{school_id}", response_model=SchoolRead, responses=problems(service.SchoolNotFound))
async def get_school(
    school_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt, response: Response
) -> SchoolRead:
    """One school; 404 if it does not exist or lies outside your jurisdiction. A read of the principal's
    phone in full is audited."""
    return _read(rt, who, await service.read(uow, who, school_id), response)


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
    rt: Rt,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> SchoolRead:
    """Change a school's details. Send ``If-Match`` with the ETag you read."""
    school = await service.update(uow, who, field_cipher(rt.settings), school_id, if_match, body)
    return _read(rt, who, school, response)
