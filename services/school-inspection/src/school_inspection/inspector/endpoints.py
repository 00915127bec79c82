"""HTTP for inspectors, their ledgers, responsible-inspector assignments and the inspection policy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.auth.principal import Principal
from dudao.divisions.tree import InvalidDivisionCode
from dudao.encryption import field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import UoW
from dudao.http.params import DivisionPath, IfMatch, Inspecting, Office, Rt, Within
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor, page_of
from dudao.runtime import Runtime
from school_inspection.inspector import service
from school_inspection.inspector.models import (
    ConflictOfInterest,
    Employment,
    InspectionPolicy,
    Inspector,
    InspectorStatus,
    PerformanceReview,
    TrainingRecord,
)
from school_inspection.inspector.schemas import (
    AssignmentCreate,
    AssignmentEnd,
    AssignmentPage,
    AssignmentRead,
    ConflictCreate,
    ConflictPage,
    ConflictRead,
    InspectorCreate,
    InspectorDetail,
    InspectorPage,
    InspectorUpdate,
    PolicyPage,
    PolicyRead,
    PolicyWrite,
    ReviewCreate,
    ReviewPage,
    ReviewRead,
    StepCreate,
    TermRenewal,
    TrainingCreate,
    TrainingPage,
    TrainingRead,
)
from school_inspection.school.service import DivisionNotVisible, SchoolNotFound

router = transactional_router(tags=["inspectors"])


def _detail(rt: Runtime, who: Principal, inspector: Inspector, response: Response) -> InspectorDetail:
    """The inspector with their history, as ``who`` may see them (contacts masked unless an office)."""
    response.headers["ETag"] = etag(inspector.id, inspector.version)
    return service.shown_in_detail(field_cipher(rt.settings), who, inspector)


def _policy(policy: InspectionPolicy, response: Response) -> PolicyRead:
    response.headers["ETag"] = etag(policy.id, policy.version)
    return PolicyRead.model_validate(policy)


# --- policy -------------------------------------------------------------------------------------------


@router.get(
    "/v1/inspection-policy",
    response_model=PolicyRead,
    responses=problems(DivisionNotVisible, InvalidDivisionCode),
)
async def get_effective_policy(
    uow: UoW,
    who: Inspecting,
    rt: Rt,
    response: Response,
    division: Annotated[
        str | None, Query(pattern=r"^[1-9][0-9]{5}$", description="Defaults to your own division")
    ] = None,
) -> PolicyRead:
    """The inspection policy in force for a division: the thresholds of terms, training, the ratio,
    dedicated inspectors and zone size, from the most specific jurisdiction that set them."""
    return _policy(await service.effective_policy(uow, who, rt.divisions, division), response)


@router.get("/v1/inspection-policies", response_model=PolicyPage)
async def list_policies(uow: UoW, who: Inspecting, cursor: Cursor = None, limit: Limit = 50) -> PolicyPage:
    """The policies set within your jurisdiction (the nationwide defaults are not among them)."""
    rows = await service.policy_page(uow, who, after=decode_cursor(cursor), limit=limit)
    return page_of(PolicyPage, PolicyRead, rows, limit)


@router.put(
    "/v1/inspection-policies/{division_code}",
    response_model=PolicyRead,
    responses={
        201: {"model": PolicyRead, "description": "Created"},
        **problems(
            DivisionOutsideJurisdiction, InvalidDivisionCode, PreconditionFailed, PreconditionRequired
        ),
    },
)
async def set_policy(
    division_code: DivisionPath,
    body: PolicyWrite,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> PolicyRead:
    """Set the inspection policy of a jurisdiction within yours. Replacing one needs ``If-Match``."""
    policy, created = await service.set_policy(uow, who, rt.divisions, division_code, if_match, body)
    if created:
        response.status_code = 201
    return _policy(policy, response)


# --- inspectors ---------------------------------------------------------------------------------------


@router.post(
    "/v1/inspectors",
    status_code=201,
    response_model=InspectorDetail,
    responses=problems(DivisionOutsideJurisdiction, InvalidDivisionCode, service.InvalidDate),
)
async def recommend_inspector(
    body: InspectorCreate, uow: UoW, who: Office, rt: Rt, response: Response
) -> InspectorDetail:
    """Recommend an inspector (推荐), the first appointment step, with qualifications and contact."""
    inspector = await service.recommend(uow, who, rt.divisions, field_cipher(rt.settings), body)
    response.headers["Location"] = f"/v1/inspectors/{inspector.id}"
    return _detail(rt, who, inspector, response)


@router.get("/v1/inspectors", response_model=InspectorPage)
async def list_inspectors(
    uow: UoW,
    who: Inspecting,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    status: Annotated[InspectorStatus | None, Query()] = None,
    employment: Annotated[Employment | None, Query()] = None,
) -> InspectorPage:
    """Inspectors appointed by offices within your jurisdiction; contacts in full for offices (each
    inspector shown is an audit entry), masked for inspectors."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        status=status,
        employment=employment,
    )
    cipher = field_cipher(rt.settings)
    return InspectorPage(
        items=[service.shown(cipher, who, i) for i in rows[:limit]],
        next_cursor=next_cursor([i.id for i in rows], limit),
    )


@router.get(
    "/v1/inspectors/{inspector_id}",
    response_model=InspectorDetail,
    responses=problems(service.InspectorNotFound),
)
async def get_inspector(
    inspector_id: UUID, uow: UoW, who: Inspecting, rt: Rt, response: Response
) -> InspectorDetail:
    """One inspector with the appointment steps and terms; 404 outside your jurisdiction. The contacts
    are in full for offices (the read is audited), masked for inspectors."""
    return _detail(rt, who, await service.get(uow, who, inspector_id), response)


@router.patch(
    "/v1/inspectors/{inspector_id}",
    response_model=InspectorDetail,
    responses=problems(service.InspectorNotFound, PreconditionFailed, PreconditionRequired),
)
async def update_inspector(
    inspector_id: UUID,
    body: InspectorUpdate,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> InspectorDetail:
    """Correct an inspector's qualifications or contact details. Send ``If-Match`` with the ETag you read."""
    inspector = await service.update(uow, who, field_cipher(rt.settings), inspector_id, if_match, body)
    return _detail(rt, who, inspector, response)


@router.post(
    "/v1/inspectors/{inspector_id}/appointment-steps",
    status_code=201,
    response_model=InspectorDetail,
    responses=problems(
        service.InspectorNotFound,
        service.StepOutOfOrder,
        service.InspectorUnqualified,
        service.AppointmentEnded,
        service.InvalidDate,
    ),
)
async def take_appointment_step(
    inspector_id: UUID, body: StepCreate, uow: UoW, who: Office, rt: Rt, response: Response
) -> InspectorDetail:
    """Record the next appointment step: review (审核), public notice (公示), announcement (任命).

    Steps are taken in that order only. Review and announcement check the qualifications the policy
    requires (degree, years in education work). The announcement starts a part-time inspector's first term.
    """
    return _detail(rt, who, await service.take_step(uow, who, inspector_id, body), response)


@router.post(
    "/v1/inspectors/{inspector_id}/terms",
    status_code=201,
    response_model=InspectorDetail,
    responses=problems(
        service.InspectorNotFound,
        service.NotPartTime,
        service.TermLimitReached,
        service.InspectorNotAppointed,
        service.AppointmentEnded,
        service.InvalidDate,
    ),
)
async def renew_term(
    inspector_id: UUID, body: TermRenewal, uow: UoW, who: Office, rt: Rt, response: Response
) -> InspectorDetail:
    """Reappoint a part-time inspector for another term; more consecutive terms than the policy allows
    (3 by default) are refused."""
    return _detail(rt, who, await service.renew_term(uow, who, inspector_id, body), response)


@router.post(
    "/v1/inspectors/{inspector_id}/training",
    status_code=201,
    response_model=TrainingRead,
    responses=problems(service.InspectorNotFound, service.AppointmentEnded, service.InvalidDate),
)
async def record_training(inspector_id: UUID, body: TrainingCreate, uow: UoW, who: Office) -> TrainingRecord:
    """Record training in the ledger: pre-service training (岗前培训) or collective class hours."""
    return await service.record_training(uow, who, inspector_id, body)


@router.get(
    "/v1/inspectors/{inspector_id}/training",
    response_model=TrainingPage,
    responses=problems(service.InspectorNotFound),
)
async def list_training(
    inspector_id: UUID, uow: UoW, who: Inspecting, cursor: Cursor = None, limit: Limit = 50
) -> TrainingPage:
    """The inspector's training ledger, oldest record first."""
    rows = await service.ledger_page(
        uow, who, inspector_id, TrainingRecord, after=decode_cursor(cursor), limit=limit
    )
    return page_of(TrainingPage, TrainingRead, rows, limit)


@router.post(
    "/v1/inspectors/{inspector_id}/conflicts",
    status_code=201,
    response_model=ConflictRead,
    responses=problems(service.InspectorNotFound, SchoolNotFound),
)
async def record_conflict(
    inspector_id: UUID, body: ConflictCreate, uow: UoW, who: Office
) -> ConflictOfInterest:
    """Record a conflict of interest with a school (a near relative there, a former employer …).

    The inspector recuses (回避) from that school: no assignment there, and a current one ends.
    """
    return await service.record_conflict(uow, who, inspector_id, body)


@router.get(
    "/v1/inspectors/{inspector_id}/conflicts",
    response_model=ConflictPage,
    responses=problems(service.InspectorNotFound),
)
async def list_conflicts(
    inspector_id: UUID, uow: UoW, who: Office, cursor: Cursor = None, limit: Limit = 50
) -> ConflictPage:
    """The inspector's conflicts of interest."""
    rows = await service.ledger_page(
        uow, who, inspector_id, ConflictOfInterest, after=decode_cursor(cursor), limit=limit
    )
    return page_of(ConflictPage, ConflictRead, rows, limit)


@router.post(
    "/v1/inspectors/{inspector_id}/reviews",
    status_code=201,
    response_model=ReviewRead,
    responses=problems(
        service.InspectorNotFound,
        service.InspectorNotAppointed,
        service.AppointmentEnded,
        service.ReviewExists,
        service.InvalidDate,
    ),
)
async def record_review(inspector_id: UUID, body: ReviewCreate, uow: UoW, who: Office) -> PerformanceReview:
    """Record the yearly performance review (年度考核). An unqualified rating ends the appointment
    (取消任命) and the inspector's assignments."""
    return await service.record_review(uow, who, inspector_id, body)


@router.get(
    "/v1/inspectors/{inspector_id}/reviews",
    response_model=ReviewPage,
    responses=problems(service.InspectorNotFound),
)
async def list_reviews(
    inspector_id: UUID, uow: UoW, who: Office, cursor: Cursor = None, limit: Limit = 50
) -> ReviewPage:
    """The inspector's yearly performance reviews."""
    rows = await service.ledger_page(
        uow, who, inspector_id, PerformanceReview, after=decode_cursor(cursor), limit=limit
    )
    return page_of(ReviewPage, ReviewRead, rows, limit)


# --- assignments --------------------------------------------------------------------------------------


@router.post(
    "/v1/assignments",
    status_code=201,
    response_model=AssignmentRead,
    responses=problems(
        service.InspectorNotFound,
        SchoolNotFound,
        *service.CANNOT_SERVE,
        service.SchoolOutsideInspectorDivision,
        service.SchoolAlreadyCovered,
        service.InspectorOverLoad,
        service.DedicatedInspectorRequired,
        service.InvalidDate,
    ),
)
async def assign_responsible_inspector(
    body: AssignmentCreate, uow: UoW, who: Office, response: Response
) -> AssignmentRead:
    """Make an appointed, trained inspector a school's responsible inspector (责任督学).

    The ratio policy applies: an inspector covers at most 5 schools by default (1:5), and a school above
    the enrolment threshold (3000 by default) takes an inspector who holds no other school (1:1). An
    inspector with a conflict of interest at the school is refused (``inspector-recused``).
    """
    assignment = await service.assign(uow, who, body)
    response.headers["Location"] = f"/v1/assignments/{assignment.id}"
    return AssignmentRead.model_validate(assignment)


@router.get("/v1/assignments", response_model=AssignmentPage)
async def list_assignments(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    school_id: Annotated[UUID | None, Query()] = None,
    inspector_id: Annotated[UUID | None, Query()] = None,
    current: Annotated[bool, Query(description="Only assignments in force today")] = False,
) -> AssignmentPage:
    """Responsible-inspector assignments at schools within your jurisdiction."""
    rows = await service.assignment_page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        school_id=school_id,
        inspector_id=inspector_id,
        current=current,
    )
    return page_of(AssignmentPage, AssignmentRead, rows, limit)


@router.post(
    "/v1/assignments/{assignment_id}/end",
    response_model=AssignmentRead,
    responses=problems(service.AssignmentNotFound, service.AssignmentEnded, service.InvalidDate),
)
async def end_assignment(assignment_id: UUID, body: AssignmentEnd, uow: UoW, who: Office) -> AssignmentRead:
    """End an assignment on a day (today by default), the last day the inspector serves the school."""
    return AssignmentRead.model_validate(await service.end_assignment(uow, who, assignment_id, body))
