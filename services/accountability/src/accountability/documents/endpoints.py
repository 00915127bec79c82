"""HTTP for documents and issuing offices: parse, authorise, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query, Response

from accountability.documents import service
from accountability.documents.models import DocumentKind
from accountability.documents.schemas import (
    DecisionCreate,
    DocumentPage,
    DocumentRead,
    InterviewRecordCreate,
    IssuingOfficeRead,
    PublicDocumentPage,
    PublicDocumentRead,
    PublicKind,
)
from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import problems
from dudao.http.dependencies import CurrentPrincipal, PublicUoW, UoW, require, runtime
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor
from dudao.runtime import Runtime

router = transactional_router(tags=["documents"])
Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]
DivisionPath = Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$", description="The office's division code")]
_CHANGE_PROBLEMS = problems(service.DocumentNotFound, service.WrongDocumentKind, service.AlreadyDone)
_PUBLISH_PROBLEMS = problems(
    service.DocumentNotFound, service.WrongDocumentKind, service.AlreadyDone, service.NotDecided
)
Within = Annotated[
    str | None, Query(pattern=r"^[1-9][0-9]{1,5}$", description="Only under this division-code prefix")
]
PUBLIC_MAX_AGE = 300  # seconds a portal or proxy may cache a public read


@router.get("/v1/documents", response_model=DocumentPage)
async def list_documents(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    kind: Annotated[DocumentKind | None, Query()] = None,
    case_id: Annotated[UUID | None, Query()] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
) -> DocumentPage:
    """Urging orders, interviews, circulars and accountability decisions within your jurisdiction."""
    rows = await service.page(
        uow, who, after=decode_cursor(cursor), limit=limit, kind=kind, case_id=case_id, unit_id=unit_id
    )
    return DocumentPage(
        items=[DocumentRead.model_validate(d) for d in rows[:limit]],
        next_cursor=next_cursor([d.id for d in rows], limit),
    )


@router.get(
    "/v1/documents/{document_id}", response_model=DocumentRead, responses=problems(service.DocumentNotFound)
)
async def get_document(document_id: UUID, uow: UoW, who: CurrentPrincipal) -> DocumentRead:
    """One document with its number and details; 404 outside your jurisdiction."""
    return DocumentRead.model_validate(await service.get(uow, who, document_id))


@router.post("/v1/documents/{document_id}/decision", response_model=DocumentRead, responses=_CHANGE_PROBLEMS)
async def decide(
    document_id: UUID,
    body: DecisionCreate,
    uow: UoW,
    who: Office,
    rt: Annotated[Runtime, Depends(runtime)],
) -> DocumentRead:
    """Take a pending accountability decision (问责): its form, the people it names and why.

    The decision gets its document number now, in the same transaction.
    """
    return DocumentRead.model_validate(await service.decide(uow, who, rt.divisions, document_id, body))


@router.post(
    "/v1/documents/{document_id}/interview-record", response_model=DocumentRead, responses=_CHANGE_PROBLEMS
)
async def record_interview(
    document_id: UUID, body: InterviewRecordCreate, uow: UoW, who: Office
) -> DocumentRead:
    """Record the written record (书面记录) of an interview and whom it is filed with (备案)."""
    return DocumentRead.model_validate(await service.record_interview(uow, who, document_id, body))


@router.post("/v1/documents/{document_id}/publish", response_model=DocumentRead, responses=_PUBLISH_PROBLEMS)
async def publish_circular(document_id: UUID, uow: UoW, who: Office) -> DocumentRead:
    """Publish a circular (通报), or a decided accountability decision not published when it was taken:
    accountability and handling results are made public (item 十四). 409 for a pending decision."""
    return DocumentRead.model_validate(await service.publish_circular(uow, who, document_id))


@router.get(
    "/v1/issuing-offices/{division_code}",
    response_model=IssuingOfficeRead,
    responses=problems(InvalidDivisionCode),
)
async def get_issuing_office(
    division_code: DivisionPath, uow: UoW, _: CurrentPrincipal, rt: Annotated[Runtime, Depends(runtime)]
) -> IssuingOfficeRead:
    """The abbreviation (机关代字) an office's document numbers start with. Governance records the offices and
    their abbreviations (the one source); accountability only reads what governance published."""
    return await service.issuing_office(uow, rt.divisions, division_code)


@router.get("/v1/public/documents", response_model=PublicDocumentPage, tags=["public"])
async def list_public_documents(
    uow: PublicUoW,
    response: Response,
    rt: Annotated[Runtime, Depends(runtime)],
    cursor: Cursor = None,
    limit: Limit = 50,
    kind: Annotated[PublicKind | None, Query()] = None,
    within: Within = None,
) -> PublicDocumentPage:
    """Published circulars and published accountability decisions, newest first, without authentication:
    for portals. Only their public text; nothing of unpublished documents."""
    rows = await service.public_page(
        uow,
        rt.divisions,
        after=decode_cursor(cursor),
        limit=limit,
        kind=DocumentKind(kind) if kind else None,
        within=within,
    )
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return PublicDocumentPage(items=rows[:limit], next_cursor=next_cursor([d.id for d in rows], limit))


@router.get(
    "/v1/public/documents/{document_id}",
    response_model=PublicDocumentRead,
    responses=problems(service.DocumentNotFound),
    tags=["public"],
)
async def get_public_document(
    document_id: UUID, uow: PublicUoW, response: Response, rt: Annotated[Runtime, Depends(runtime)]
) -> PublicDocumentRead:
    """One published circular or accountability decision, without authentication; 404 if unknown or not
    public."""
    document = await service.public_get(uow, rt.divisions, document_id)
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return document
