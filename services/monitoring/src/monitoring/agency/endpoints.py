"""HTTP for agencies (第三方评估监测机构), their commissions, the keys bound to them, the agencies' reports
and quality monitoring results, and the office's review of them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response

from dudao.apikeys.service import KeyOutsideJurisdiction
from dudao.auth.principal import Principal, Role
from dudao.encryption import field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.evidence.service import UnknownEvidence
from dudao.http.dependencies import UoW, require
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, InvalidCursor, Limit, UpdatedSince, decode_cursor, next_cursor, page_of
from dudao.runtime import Runtime
from monitoring.agency import service
from monitoring.agency.models import Agency, Commission, CommissionDeliverable
from monitoring.agency.schemas import (
    AgencyCreate,
    AgencyPage,
    AgencyRead,
    AgencyUpdate,
    CommissionCreate,
    CommissionDetail,
    CommissionKeyCreate,
    CommissionKeyIssued,
    CommissionKeyList,
    CommissionKeyRead,
    CommissionPage,
    CommissionRead,
    CommissionUpdate,
    DeliverableDetail,
    DeliverableRead,
    ReportCreate,
    ReportRead,
    ReviewCreate,
    Reviewed,
    ReviewRead,
)

router = transactional_router(tags=["agencies and commissions"])

# Who reads the registry and commissions: offices, inspectors, and agencies (their own only).
Reader = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.AGENCY))]
AgencyKey = Annotated[Principal, Depends(require(Role.AGENCY))]

_KEY_PROBLEMS = (service.AgencyKeyRequired, service.KeyNotBound, service.CommissionNotInForce)
_CHANGE_PROBLEMS = (PreconditionFailed, PreconditionRequired)


def _agency(rt: Runtime, who: Principal, agency: Agency, status: int = 200) -> Response:
    headers = {"ETag": etag(agency.id, agency.version)}
    if status == 201:
        headers["Location"] = f"/v1/agencies/{agency.id}"
    return json_model(service.shown(field_cipher(rt.settings), who, agency), status, headers)


def _commission(found: Commission, response: Response) -> CommissionDetail:
    response.headers["ETag"] = etag(found.id, found.version)
    return CommissionDetail.model_validate(found)


# --- agencies ---------------------------------------------------------------------------------------


@router.post(
    "/v1/agencies", status_code=201, response_model=AgencyRead, responses=problems(service.AgencyRegistered)
)
async def register_agency(body: AgencyCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Register an agency in your office's registry: its qualification and contacts (sealed at rest)."""
    return _agency(rt, who, await service.register_agency(uow, who, field_cipher(rt.settings), body), 201)


@router.get("/v1/agencies", response_model=AgencyPage, responses=problems(InvalidCursor, *_KEY_PROBLEMS))
async def list_agencies(
    uow: UoW,
    who: Reader,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> AgencyPage:
    """Agencies registered within your jurisdiction (an agency: itself). Contacts masked but for offices
    and the agency itself."""
    rows = await service.page_agencies(
        uow, who, after=decode_cursor(cursor), limit=limit + 1, within=within, updated_since=updated_since
    )
    cipher = field_cipher(rt.settings)
    return AgencyPage(
        items=[service.shown(cipher, who, a) for a in rows[:limit]],
        next_cursor=next_cursor([a.id for a in rows], limit),
    )


@router.get("/v1/agencies/{agency_id}", response_model=AgencyRead, responses=problems(service.AgencyNotFound))
async def get_agency(agency_id: UUID, uow: UoW, who: Reader, rt: Rt) -> Response:
    """One agency; 404 outside your jurisdiction (an agency: any but itself). A read of its contacts in
    full is audited."""
    return _agency(rt, who, await service.read_agency(uow, who, agency_id))


@router.patch(
    "/v1/agencies/{agency_id}",
    response_model=AgencyRead,
    responses=problems(service.AgencyNotFound, *_CHANGE_PROBLEMS),
)
async def update_agency(
    agency_id: UUID, body: AgencyUpdate, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """Correct an agency's name, qualification or contacts (replaced whole). Send ``If-Match``."""
    cipher = field_cipher(rt.settings)
    return _agency(rt, who, await service.update_agency(uow, who, cipher, agency_id, if_match, body))


# --- commissions ------------------------------------------------------------------------------------


@router.post(
    "/v1/commissions",
    status_code=201,
    response_model=CommissionDetail,
    responses=problems(service.InvalidCommission),
)
async def create_commission(
    body: CommissionCreate, uow: UoW, who: Office, rt: Rt, response: Response
) -> CommissionDetail:
    """Commission an agency by government purchase (委托): the indicator systems it assesses, the divisions
    and units, the period and the deliverables."""
    found = await service.commission(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/commissions/{found.id}"
    return _commission(found, response)


@router.get(
    "/v1/commissions", response_model=CommissionPage, responses=problems(InvalidCursor, *_KEY_PROBLEMS)
)
async def list_commissions(
    uow: UoW,
    who: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    agency_id: Annotated[UUID | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> CommissionPage:
    """Commissions by offices within your jurisdiction; an agency's key: its own commission."""
    rows = await service.page_commissions(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        within=within,
        agency_id=agency_id,
        updated_since=updated_since,
    )
    return page_of(CommissionPage, CommissionRead, rows, limit)


@router.get(
    "/v1/commissions/{commission_id}",
    response_model=CommissionDetail,
    responses=problems(service.CommissionNotFound, *_KEY_PROBLEMS),
)
async def get_commission(commission_id: UUID, uow: UoW, who: Reader, response: Response) -> CommissionDetail:
    """A commission with its deliverables; 404 outside your jurisdiction or, for a key, its commission."""
    return _commission(
        await service.get_commission(uow, who, commission_id, with_deliverables=True), response
    )


@router.patch(
    "/v1/commissions/{commission_id}",
    response_model=CommissionDetail,
    responses=problems(
        service.CommissionNotFound, service.CommissionClosed, service.InvalidCommission, *_CHANGE_PROBLEMS
    ),
)
async def update_commission(
    commission_id: UUID,
    body: CommissionUpdate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> CommissionDetail:
    """Retitle a commission, move its end, or close it (completed, terminated). Send ``If-Match``."""
    return _commission(await service.update_commission(uow, who, commission_id, if_match, body), response)


# --- keys -------------------------------------------------------------------------------------------


@router.post(
    "/v1/commissions/{commission_id}/keys",
    status_code=201,
    response_model=CommissionKeyIssued,
    responses=problems(
        service.CommissionNotFound,
        service.CommissionClosed,
        service.InvalidCommission,
        KeyOutsideJurisdiction,
    ),
)
async def issue_commission_key(
    commission_id: UUID, body: CommissionKeyCreate, uow: UoW, who: Office, response: Response
) -> CommissionKeyIssued:
    """Issue the agency an API key bound to this commission: monitoring only, its divisions, expiring by
    the end of its period. The key is in this response only; revoke it with ``/v1/api-keys/{id}/revoke``."""
    issued = await service.issue_key(uow, who, commission_id, body)
    response.headers["Location"] = f"/v1/commissions/{commission_id}/keys"
    return CommissionKeyIssued(
        **CommissionKeyRead.model_validate(issued.binding).model_dump(),
        key=issued.secret,
        scope_divisions=issued.key.scope_divisions,
        scope_operations=issued.key.scope_operations,
    )


@router.get(
    "/v1/commissions/{commission_id}/keys",
    response_model=CommissionKeyList,
    responses=problems(service.CommissionNotFound),
)
async def list_commission_keys(commission_id: UUID, uow: UoW, who: Office) -> CommissionKeyList:
    """The keys issued for a commission (never the keys themselves)."""
    keys = await service.keys_of(uow, who, commission_id)
    return CommissionKeyList(items=[CommissionKeyRead.model_validate(k) for k in keys])


# --- deliverables -----------------------------------------------------------------------------------

_DELIVERABLE = "/v1/commissions/{commission_id}/deliverables/{deliverable_id}"


def _deliverable_etag(item: CommissionDeliverable, response: Response) -> None:
    response.headers["ETag"] = etag(item.id, item.version)


@router.get(
    _DELIVERABLE,
    response_model=DeliverableDetail,
    responses=problems(service.CommissionNotFound, service.DeliverableNotFound, *_KEY_PROBLEMS),
)
async def get_deliverable(
    commission_id: UUID, deliverable_id: UUID, uow: UoW, who: Reader, response: Response
) -> DeliverableDetail:
    """A deliverable with each report submitted for it (newest first) and the office's reviews."""
    history = await service.deliverable(uow, who, commission_id, deliverable_id)
    _deliverable_etag(history.deliverable, response)
    return DeliverableDetail(
        **DeliverableRead.model_validate(history.deliverable).model_dump(),
        reports=[ReportRead.model_validate(r) for r in history.reports],
        reviews=[ReviewRead.model_validate(r) for r in history.reviews],
    )


@router.post(
    f"{_DELIVERABLE}/reports",
    status_code=201,
    response_model=ReportRead,
    responses=problems(
        service.CommissionNotFound,
        service.DeliverableNotFound,
        service.DeliverableNotOpen,
        service.InvalidReport,
        UnknownEvidence,
        *_KEY_PROBLEMS,
    ),
)
async def submit_report(
    commission_id: UUID,
    deliverable_id: UUID,
    body: ReportCreate,
    uow: UoW,
    who: AgencyKey,
    rt: Rt,
    response: Response,
) -> ReportRead:
    """Deliver (the agency's key): a report's text and evidence ids (upload with ``POST /v1/evidence``),
    and for a quality_results deliverable the attainment level and difference rate per county and
    subject. A returned deliverable takes a new report."""
    report = await service.submit_report(uow, who, rt.divisions, commission_id, deliverable_id, body)
    response.headers["Location"] = f"/v1/commissions/{commission_id}/deliverables/{deliverable_id}"
    return ReportRead.model_validate(report)


@router.post(
    f"{_DELIVERABLE}/review",
    response_model=Reviewed,
    responses=problems(
        service.CommissionNotFound,
        service.DeliverableNotFound,
        service.DeliverableNotOpen,
        service.InvalidReview,
        *_CHANGE_PROBLEMS,
    ),
)
async def review_deliverable(
    commission_id: UUID,
    deliverable_id: UUID,
    body: ReviewCreate,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> Reviewed:
    """Accept the latest report of a deliverable, or return it with comments (二五 guidance). Accepted
    quality results become the counties' approved ``quality.3_9``. Send ``If-Match`` (the deliverable's)."""
    done = await service.review(uow, who, commission_id, deliverable_id, if_match, body)
    _deliverable_etag(done.deliverable, response)
    return Reviewed(
        review=ReviewRead.model_validate(done.review),
        deliverable=DeliverableRead.model_validate(done.deliverable),
        quality_written=done.quality_written,
    )
