"""HTTP for findings, rectifications and evidence (mounted by every service that runs rectifications)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse

from dudao.auth.principal import Principal, Role
from dudao.errors import InvalidInput, NotFound, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW, require, runtime
from dudao.http.routing import transactional_router
from dudao.ids import uuid7
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor
from dudao.rectification import repository, service
from dudao.rectification.models import EvidenceFile, Rectification, RectificationStatus
from dudao.rectification.schemas import (
    EvidenceRead,
    FindingCreate,
    RecheckCreate,
    RecheckRead,
    RectificationDetail,
    RectificationPage,
    RectificationRead,
    Rejection,
    Reply,
    ReportCreate,
    ReportRead,
)
from dudao.runtime import Runtime
from dudao.storage import FileTooLarge, LocalDiskStorage

router = transactional_router(tags=["findings and rectifications"])
Inspecting = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.INSPECTOR))]
Unit = Annotated[Principal, Depends(require(Role.SUPERVISED_UNIT))]
Rt = Annotated[Runtime, Depends(runtime)]


class EvidenceNotFound(NotFound):
    type = "evidence-not-found"
    title = "No such evidence file"


class EvidenceRefused(InvalidInput):
    type = "evidence-refused"
    title = "The file is not acceptable as evidence"


def _read(rectification: Rectification, response: Response | None = None) -> RectificationRead:
    if response is not None:
        response.headers["ETag"] = etag(rectification.id, rectification.version)
    return RectificationRead.model_validate(rectification)


@router.post(
    "/v1/findings",
    status_code=201,
    response_model=RectificationRead,
    responses=problems(service.OutsideJurisdiction, service.UnknownEvidence),
)
async def raise_finding(
    body: FindingCreate, uow: UoW, who: Inspecting, rt: Rt, response: Response
) -> RectificationRead:
    """Record a finding (问题) at a supervised unit with its rectification requirement and deadline.

    Working-day deadlines follow the holiday calendar; a year without one is refused unless your office
    allowed provisional deadlines for it.
    """
    rectification = await service.raise_finding(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/rectifications/{rectification.id}"
    return _read(rectification, response)


@router.get("/v1/rectifications", response_model=RectificationPage)
async def list_rectifications(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: Annotated[RectificationStatus | None, Query()] = None,
    unit_id: Annotated[str | None, Query(max_length=100)] = None,
    overdue: Annotated[bool | None, Query(description="Only (not) overdue ones")] = None,
    updated_since: Annotated[datetime | None, Query(description="Mobile sync: changed since")] = None,
) -> RectificationPage:
    """Rectifications within your jurisdiction; a supervised unit sees its own."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        status=status,
        unit_id=unit_id,
        overdue=overdue,
        updated_since=updated_since,
    )
    return RectificationPage(
        items=[_read(r) for r in rows[:limit]], next_cursor=next_cursor([r.id for r in rows], limit)
    )


@router.get(
    "/v1/rectifications/{rectification_id}",
    response_model=RectificationDetail,
    responses=problems(service.RectificationNotFound),
)
async def get_rectification(
    rectification_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response
) -> RectificationDetail:
    """One rectification with its finding, reports, escalation steps and rechecks."""
    rectification = await service.get(uow, who, rectification_id, with_history=True)
    response.headers["ETag"] = etag(rectification.id, rectification.version)
    return RectificationDetail.model_validate(rectification)


@router.post(
    "/v1/rectifications/{rectification_id}/reports",
    status_code=201,
    response_model=ReportRead,
    responses=problems(
        service.RectificationNotFound, service.WrongStatus, service.NotTheUnit, service.UnknownEvidence
    ),
)
async def submit_report(rectification_id: UUID, body: ReportCreate, uow: UoW, who: Unit) -> ReportRead:
    """The supervised unit reports how it rectified (整改报告), with evidence."""
    return ReportRead.model_validate(await service.submit_report(uow, who, rectification_id, body))


@router.post(
    "/v1/rectifications/{rectification_id}/accept",
    response_model=RectificationRead,
    responses=problems(service.RectificationNotFound, service.WrongStatus),
)
async def accept_report(
    rectification_id: UUID, uow: UoW, who: Inspecting, response: Response
) -> RectificationRead:
    """Accept the report: the rectification is closed out (销号) and any escalation ends."""
    return _read(await service.accept(uow, who, rectification_id), response)


@router.post(
    "/v1/rectifications/{rectification_id}/reject",
    response_model=RectificationRead,
    responses=problems(service.RectificationNotFound, service.WrongStatus),
)
async def reject_report(
    rectification_id: UUID, body: Rejection, uow: UoW, who: Inspecting, rt: Rt, response: Response
) -> RectificationRead:
    """Reject the report with reasons; the unit may reply (申辩) within the reply window. Escalates."""
    rectification = await service.reject(
        uow, who, rectification_id, body.reasons, rt.settings.rectification_reply_window_days
    )
    return _read(rectification, response)


@router.post(
    "/v1/rectifications/{rectification_id}/reply",
    response_model=RectificationRead,
    responses=problems(
        service.RectificationNotFound, service.WrongStatus, service.ReplyWindowClosed, service.NotTheUnit
    ),
)
async def reply_to_rejection(
    rectification_id: UUID, body: Reply, uow: UoW, who: Unit, response: Response
) -> RectificationRead:
    """The unit's reply (申辩) to a rejection puts its report back before the inspector."""
    return _read(await service.reply(uow, who, rectification_id, body.text), response)


@router.post(
    "/v1/rectifications/{rectification_id}/rechecks",
    status_code=201,
    response_model=RecheckRead,
    responses=problems(service.RectificationNotFound, service.WrongStatus),
)
async def recheck(rectification_id: UUID, body: RecheckCreate, uow: UoW, who: Inspecting) -> RecheckRead:
    """Recheck (复查) a closed-out rectification: confirm it, or reopen it with a new deadline."""
    return RecheckRead.model_validate(await service.recheck(uow, who, rectification_id, body))


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(256 * 1024):
        yield chunk


@router.post(
    "/v1/evidence", status_code=201, response_model=EvidenceRead, responses=problems(EvidenceRefused)
)
async def upload_evidence(
    file: UploadFile, request: Request, uow: UoW, who: CurrentPrincipal, rt: Rt
) -> EvidenceFile:
    """Upload an evidence file (multipart field ``file``); name its id in a finding or a report."""
    settings = rt.settings
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    if content_type not in settings.evidence_content_types:
        raise EvidenceRefused(
            f"{content_type or 'an unknown type'} is not accepted; send one of "
            f"{', '.join(settings.evidence_content_types)}"
        )
    storage = LocalDiskStorage(settings.evidence_root / rt.spec.schema)
    key = uuid7().hex
    try:
        stored = await storage.save(key, _chunks(file), max_bytes=settings.evidence_max_bytes)
    except FileTooLarge as exc:
        raise EvidenceRefused(f"The file is larger than {exc.limit} bytes") from None
    if stored.size == 0:
        await storage.delete(key)
        raise EvidenceRefused("The file is empty")
    try:
        return await service.add_evidence(
            uow,
            who,
            EvidenceFile(
                filename=(file.filename or "evidence")[:255],
                content_type=content_type,
                size=stored.size,
                sha256=stored.sha256,
                storage_key=key,
            ),
        )
    except BaseException:
        await storage.delete(key)
        raise


@router.get("/v1/evidence/{evidence_id}", response_class=FileResponse, responses=problems(EvidenceNotFound))
async def download_evidence(evidence_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt) -> FileResponse:
    """Download an evidence file within your jurisdiction."""
    evidence = await repository.get_evidence_visible(uow.session, who, evidence_id)
    if evidence is None:
        raise EvidenceNotFound(f"Evidence {evidence_id} does not exist")
    path = LocalDiskStorage(rt.settings.evidence_root / rt.spec.schema).path(evidence.storage_key)
    return FileResponse(path, media_type=evidence.content_type, filename=evidence.filename)
