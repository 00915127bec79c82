"""HTTP for findings and rectifications, built for the service that mounts the capability."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from dudao.errors import problems
from dudao.etag import etag
from dudao.evidence.service import UnknownEvidence
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import Inspecting, Rt, Unit
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, next_cursor
from dudao.rectification.models import Rectification, RectificationStatus
from dudao.rectification.schemas import (
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
from dudao.rectification.service import (
    NotTheUnit,
    OutsideJurisdiction,
    RectificationNotFound,
    Rectifications,
    ReplyWindowClosed,
    WrongStatus,
)


def _read(rectification: Rectification, response: Response | None = None) -> RectificationRead:
    if response is not None:
        response.headers["ETag"] = etag(rectification.id, rectification.version)
    return RectificationRead.model_validate(rectification)


def router(rectifications: Rectifications) -> APIRouter:
    """The routes of findings and rectifications of one service (the paths are the same in each)."""
    routes = transactional_router(tags=["findings and rectifications"])

    @routes.post(
        "/v1/findings",
        status_code=201,
        response_model=RectificationRead,
        responses=problems(OutsideJurisdiction, UnknownEvidence),
    )
    async def raise_finding(
        body: FindingCreate, uow: UoW, who: Inspecting, rt: Rt, response: Response
    ) -> RectificationRead:
        """Record a finding (问题) at a supervised unit with its rectification requirement and deadline.

        Working-day deadlines follow the holiday calendar; a year without one is refused unless your office
        allowed provisional deadlines for it.
        """
        unit = await rectifications.resolve_unit(uow, who, rt.divisions, body.unit)
        body = body.model_copy(update={"unit": unit})
        rectification = await rectifications.raise_finding(uow, who, rt.divisions, body)
        response.headers["Location"] = f"/v1/rectifications/{rectification.id}"
        return _read(rectification, response)

    @routes.get("/v1/rectifications", response_model=RectificationPage)
    async def list_rectifications(
        uow: UoW,
        who: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        status: Annotated[RectificationStatus | None, Query()] = None,
        unit_id: Annotated[str | None, Query(max_length=100)] = None,
        overdue: Annotated[bool | None, Query(description="Only (not) overdue ones")] = None,
        updated_since: UpdatedSince = None,
    ) -> RectificationPage:
        """Rectifications within your jurisdiction; a supervised unit sees its own."""
        rows = await rectifications.page(
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

    @routes.get(
        "/v1/rectifications/{rectification_id}",
        response_model=RectificationDetail,
        responses=problems(RectificationNotFound),
    )
    async def get_rectification(
        rectification_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response
    ) -> RectificationDetail:
        """One rectification with its finding, reports, escalation steps and rechecks."""
        rectification = await rectifications.get(uow, who, rectification_id, with_history=True)
        response.headers["ETag"] = etag(rectification.id, rectification.version)
        return RectificationDetail.model_validate(rectification)

    @routes.post(
        "/v1/rectifications/{rectification_id}/reports",
        status_code=201,
        response_model=ReportRead,
        responses=problems(RectificationNotFound, WrongStatus, NotTheUnit, UnknownEvidence),
    )
    async def submit_report(rectification_id: UUID, body: ReportCreate, uow: UoW, who: Unit) -> ReportRead:
        """The supervised unit reports how it rectified (整改报告), with evidence."""
        return ReportRead.model_validate(await rectifications.submit_report(uow, who, rectification_id, body))

    @routes.post(
        "/v1/rectifications/{rectification_id}/accept",
        response_model=RectificationRead,
        responses=problems(RectificationNotFound, WrongStatus),
    )
    async def accept_report(
        rectification_id: UUID, uow: UoW, who: Inspecting, response: Response
    ) -> RectificationRead:
        """Accept the report: the rectification is closed out (销号) and any escalation ends."""
        return _read(await rectifications.accept(uow, who, rectification_id), response)

    @routes.post(
        "/v1/rectifications/{rectification_id}/reject",
        response_model=RectificationRead,
        responses=problems(RectificationNotFound, WrongStatus),
    )
    async def reject_report(
        rectification_id: UUID, body: Rejection, uow: UoW, who: Inspecting, rt: Rt, response: Response
    ) -> RectificationRead:
        """Reject the report with reasons; the unit may reply (申辩) within the reply window. Escalates."""
        rectification = await rectifications.reject(
            uow, who, rectification_id, body.reasons, rt.settings.rectification_reply_window_days
        )
        return _read(rectification, response)

    @routes.post(
        "/v1/rectifications/{rectification_id}/reply",
        response_model=RectificationRead,
        responses=problems(RectificationNotFound, WrongStatus, ReplyWindowClosed, NotTheUnit),
    )
    async def reply_to_rejection(
        rectification_id: UUID, body: Reply, uow: UoW, who: Unit, response: Response
    ) -> RectificationRead:
        """The unit's reply (申辩) to a rejection puts its report back before the inspector."""
        return _read(await rectifications.reply(uow, who, rectification_id, body.text), response)

    @routes.post(
        "/v1/rectifications/{rectification_id}/rechecks",
        status_code=201,
        response_model=RecheckRead,
        responses=problems(RectificationNotFound, WrongStatus),
    )
    async def recheck(rectification_id: UUID, body: RecheckCreate, uow: UoW, who: Inspecting) -> RecheckRead:
        """Recheck (复查) a closed-out rectification: confirm it, or reopen it with a new deadline."""
        return RecheckRead.model_validate(await rectifications.recheck(uow, who, rectification_id, body))

    return routes
