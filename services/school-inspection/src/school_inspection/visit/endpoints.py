"""HTTP for visits (督导检查), the routine-visit policy and the schools behind it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Header, Query, Response

from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.evidence.service import UnknownEvidence
from dudao.http.dependencies import UoW
from dudao.http.params import DivisionPath, Inspecting, Office, Rt, Within
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, page_of
from school_inspection.inspector.service import CANNOT_SERVE
from school_inspection.school.service import DivisionNotVisible, SchoolNotFound
from school_inspection.visit import service
from school_inspection.visit.models import Checkpoint, VisitKind, VisitPolicy
from school_inspection.visit.roster import UnknownInspectors
from school_inspection.visit.schemas import (
    BehindPage,
    BehindRead,
    MonthDay,
    PolicyRead,
    PolicyWrite,
    VisitCreate,
    VisitPage,
    VisitRead,
)

router = transactional_router(tags=["visits"])


@router.post(
    "/v1/visits",
    status_code=201,
    response_model=VisitRead,
    responses=problems(
        SchoolNotFound,
        service.InvalidVisit,
        UnknownInspectors,
        *CANNOT_SERVE,
        UnknownEvidence,
    ),
)
async def record_visit(body: VisitCreate, uow: UoW, who: Inspecting, rt: Rt, response: Response) -> VisitRead:
    """Record a visit (督导检查): routine, special, random or emergency; announced or not (暗访).

    A routine visit observes all eight routine items. Times are ISO 8601 with an offset (stored in UTC);
    ``position`` is the app's WGS 84 fix. An item with a problem and ``raise_finding`` opens a
    rectification for the school (see ``rectification_id`` on the item) in the same transaction.
    Send an ``Idempotency-Key`` so that a retried upload from the app records the visit once.
    """
    visit = await service.record(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/visits/{visit.id}"
    return VisitRead.model_validate(visit)


@router.get("/v1/visits", response_model=VisitPage)
async def list_visits(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    school_id: Annotated[UUID | None, Query()] = None,
    kind: Annotated[VisitKind | None, Query()] = None,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> VisitPage:
    """Visits within your jurisdiction, by id; with ``updated_since``, by change time for syncing."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        school_id=school_id,
        kind=kind,
        within=within,
        updated_since=updated_since,
    )
    return page_of(VisitPage, VisitRead, rows, limit)


@router.get("/v1/visits/behind", response_model=BehindPage)
async def list_schools_behind(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    semester: Annotated[
        str | None, Query(pattern=r"^[0-9]{4}-(spring|autumn)$", examples=["2026-autumn"])
    ] = None,
    checkpoint: Annotated[Checkpoint | None, Query()] = None,
) -> BehindPage:
    """Schools that fell behind the routine-visit policy (at least 2 a semester by default), in your
    jurisdiction: at a semester's midpoint with fewer than half the visits, or at its end with fewer
    than required. Each row is the fact sent to the escalation loop."""
    rows = await service.behind_page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        semester=semester,
        checkpoint=checkpoint,
    )
    return page_of(BehindPage, BehindRead, rows, limit)


@router.get("/v1/visits/{visit_id}", response_model=VisitRead, responses=problems(service.VisitNotFound))
async def get_visit(visit_id: UUID, uow: UoW, who: Inspecting) -> VisitRead:
    """One visit with its team and observations; 404 outside your jurisdiction."""
    return VisitRead.model_validate(await service.get(uow, who, visit_id))


def _policy(policy: VisitPolicy, response: Response) -> PolicyRead:
    response.headers["ETag"] = etag(policy.id, policy.version)
    return PolicyRead(
        division_prefix=policy.division_prefix,
        routine_visits_per_semester=policy.routine_visits_per_semester,
        spring_starts=MonthDay(month=policy.spring_start_month, day=policy.spring_start_day),
        autumn_starts=MonthDay(month=policy.autumn_start_month, day=policy.autumn_start_day),
        comprehensive_cycle_years=policy.comprehensive_cycle_years,
        version=policy.version,
        updated_by=policy.updated_by,
        updated_at=policy.updated_at,
    )


@router.get(
    "/v1/visit-policies/{division_code}",
    response_model=PolicyRead,
    responses=problems(DivisionNotVisible),
)
async def get_visit_policy(
    division_code: DivisionPath, uow: UoW, who: Inspecting, rt: Rt, response: Response
) -> PolicyRead:
    """The visit policy in force for a division: the row with the longest prefix of its code."""
    return _policy(await service.effective_policy(uow, who, rt.divisions, division_code), response)


@router.put(
    "/v1/visit-policies/{division_code}",
    response_model=PolicyRead,
    responses={
        201: {"description": "The division's own policy was created", "model": PolicyRead},
        **problems(DivisionOutsideJurisdiction, PreconditionFailed, PreconditionRequired),
    },
)
async def set_visit_policy(
    division_code: DivisionPath,
    body: PolicyWrite,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PolicyRead:
    """Set the visit policy for a division's jurisdiction: routine visits per semester, the semesters'
    first days and the comprehensive-supervision cycle. Changing an existing one needs ``If-Match``."""
    policy, created = await service.set_policy(uow, who, rt.divisions, division_code, if_match, body)
    response.status_code = 201 if created else 200
    return _policy(policy, response)
