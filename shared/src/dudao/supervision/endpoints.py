"""HTTP for the supervision procedure, built for the service that mounts the capability: the office's and
the team's steps, the units' self-evaluations and replies, and the public read of published reports."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from dudao.errors import DomainError, NotFound, PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.evidence.service import UnknownEvidence
from dudao.http.dependencies import CurrentPrincipal, PublicUoW, UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt, Unit, Within
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.numbering import UnknownDocumentKind
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, next_cursor, page_of
from dudao.rectification.service import OutsideJurisdiction
from dudao.supervision import service as rules
from dudao.supervision.models import Supervision, SupervisionKind, SupervisionStatus
from dudao.supervision.schemas import (
    FeedbackCreate,
    HearingCreate,
    NoticeCreate,
    OpinionCreate,
    PreliminaryOpinionCreate,
    PublicReport,
    PublicReportPage,
    RecusalCreate,
    ReplyCreate,
    ReportDraft,
    SelfEvaluationCreate,
    SupervisionCreate,
    SupervisionDetail,
    SupervisionPage,
    SupervisionRead,
    SupervisionUpdate,
    TeamSet,
)
from dudao.supervision.service import Supervisions

PUBLIC_MAX_AGE = 300  # seconds a portal or proxy may cache a public read
UnitPath = Annotated[str, Path(min_length=1, max_length=100, description="The supervised unit's id")]
_STEP = (rules.SupervisionNotFound, rules.WrongStep, rules.NotTheOffice)


def _detail(supervision: Supervision, response: Response) -> SupervisionDetail:
    response.headers["ETag"] = etag(supervision.id, supervision.version)
    return SupervisionDetail.model_validate(supervision)


def public_report(supervision: Supervision) -> PublicReport:
    """Only what the public reads: the report, whose supervision it is, and the opinion's number."""
    assert supervision.report_title is not None
    assert supervision.report_text is not None
    assert supervision.published_at is not None
    return PublicReport(
        id=supervision.id,
        kind=supervision.kind,
        title=supervision.title,
        report_title=supervision.report_title,
        report_text=supervision.report_text,
        office_division=supervision.office_division,
        division_code=supervision.division_code,
        unit_names=[u.unit_name for u in supervision.units],
        opinion_number=supervision.opinion_number,
        published_at=supervision.published_at,
    )


def router(supervisions: Supervisions, unit_not_found: type[DomainError] = NotFound) -> APIRouter:
    """The routes of the supervision procedure of one service (the paths are the same in each).
    ``unit_not_found`` is what the service's ``lookup_unit`` raises, for the OpenAPI document."""
    routes = transactional_router(tags=["supervisions"])

    @routes.post(
        "/v1/supervisions",
        status_code=201,
        response_model=SupervisionDetail,
        responses=problems(rules.InvalidSupervision, unit_not_found, DivisionOutsideJurisdiction),
    )
    async def open_supervision(
        body: SupervisionCreate, uow: UoW, who: Office, rt: Rt, response: Response
    ) -> SupervisionDetail:
        """Open a supervision (督导) of one or more units with its plan and checklist."""
        supervision = await supervisions.open(uow, who, rt.divisions, body)
        response.headers["Location"] = f"/v1/supervisions/{supervision.id}"
        return _detail(supervision, response)

    @routes.get("/v1/supervisions", response_model=SupervisionPage)
    async def list_supervisions(
        uow: UoW,
        who: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        within: Within = None,
        status: Annotated[SupervisionStatus | None, Query()] = None,
        kind: Annotated[SupervisionKind | None, Query()] = None,
        ref: Annotated[str | None, Query(max_length=100)] = None,
        unit_id: Annotated[str | None, Query(max_length=100)] = None,
        updated_since: UpdatedSince = None,
    ) -> SupervisionPage:
        """Supervisions within your jurisdiction; a supervised unit sees those it is a unit of."""
        rows = await supervisions.page(
            uow,
            who,
            after=decode_cursor(cursor),
            limit=limit + 1,
            within=within,
            status=status,
            kind=kind,
            ref=ref,
            unit_id=unit_id,
            updated_since=updated_since,
        )
        return page_of(SupervisionPage, SupervisionRead, rows, limit)

    @routes.get(
        "/v1/supervisions/{supervision_id}",
        response_model=SupervisionDetail,
        responses=problems(rules.SupervisionNotFound),
    )
    async def get_supervision(
        supervision_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response
    ) -> SupervisionDetail:
        """One supervision with its units, team and hearings."""
        return _detail(await supervisions.get(uow, who, supervision_id, with_parts=True), response)

    @routes.patch(
        "/v1/supervisions/{supervision_id}",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.InvalidSupervision, PreconditionFailed, PreconditionRequired),
    )
    async def update_supervision(
        supervision_id: UUID,
        body: SupervisionUpdate,
        uow: UoW,
        who: Office,
        response: Response,
        if_match: IfMatch = None,
    ) -> SupervisionDetail:
        """Change a planned supervision. Send ``If-Match`` with the ETag you read."""
        return _detail(await supervisions.update(uow, who, supervision_id, if_match, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/notice",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.NoticeTooLate),
    )
    async def notify(
        supervision_id: UUID, body: NoticeCreate, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Send the written notice (督导通知) ahead of the on-site work (not for unannounced or emergency
        supervisions)."""
        return _detail(await supervisions.notify(uow, who, supervision_id, body), response)

    @routes.put(
        "/v1/supervisions/{supervision_id}/team",
        response_model=SupervisionDetail,
        responses=problems(
            *_STEP,
            rules.InvalidSupervision,
            rules.TeamTooSmall,
            rules.InspectorIneligible,
            rules.InspectorRecused,
        ),
    )
    async def set_team(
        supervision_id: UUID, body: TeamSet, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Name the team (督导组): at least 3 inspectors by default, one leader; each appointed, with
        pre-service training on record, and none with a tie to a unit of the supervision (回避)."""
        return _detail(await supervisions.set_team(uow, who, supervision_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/units/{unit_id}/self-evaluation",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.NotTheUnit, rules.AlreadyDone, UnknownEvidence),
    )
    async def self_evaluate(
        supervision_id: UUID,
        unit_id: UnitPath,
        body: SelfEvaluationCreate,
        uow: UoW,
        who: Unit,
        response: Response,
    ) -> SupervisionDetail:
        """The unit's self-evaluation report (自评报告) with evidence, after the notice."""
        return _detail(await supervisions.self_evaluate(uow, who, supervision_id, unit_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/on-site",
        response_model=SupervisionDetail,
        responses=problems(
            *_STEP,
            rules.SelfEvaluationMissing,
            rules.OnSiteTooEarly,
            rules.TeamTooSmall,
            rules.InspectorIneligible,
            rules.InspectorRecused,
        ),
    )
    async def start_on_site(
        supervision_id: UUID, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """The team goes on site (实地督导)."""
        return _detail(await supervisions.start_on_site(uow, who, supervision_id), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/recusals",
        status_code=201,
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.InvalidSupervision),
    )
    async def recuse(
        supervision_id: UUID, body: RecusalCreate, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Record that an inspector must recuse (回避) from a unit of the supervision (before on site)."""
        return _detail(await supervisions.recuse(uow, who, supervision_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/hearings",
        status_code=201,
        response_model=SupervisionDetail,
        responses=problems(rules.SupervisionNotFound, rules.WrongStep, rules.InvalidSupervision),
    )
    async def record_hearing(
        supervision_id: UUID, body: HearingCreate, uow: UoW, who: Inspecting, response: Response
    ) -> SupervisionDetail:
        """Record a hearing of pupils, parents or teachers: the group, how many, what they said (no names)."""
        return _detail(await supervisions.record_hearing(uow, who, supervision_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/preliminary-opinion",
        response_model=SupervisionDetail,
        responses=problems(rules.SupervisionNotFound, rules.WrongStep, rules.InvalidSupervision),
    )
    async def preliminary_opinion(
        supervision_id: UUID, body: PreliminaryOpinionCreate, uow: UoW, who: Inspecting, response: Response
    ) -> SupervisionDetail:
        """The team's preliminary opinion, the problems item by item."""
        return _detail(await supervisions.preliminary_opinion(uow, who, supervision_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/feedback",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.InvalidSupervision),
    )
    async def give_feedback(
        supervision_id: UUID, body: FeedbackCreate, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Feed back (反馈) by meeting, with discipline inspection, the organisation department and the
        performance office invited and attendance recorded, or by written notice; the reply window opens."""
        return _detail(await supervisions.give_feedback(uow, who, supervision_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/units/{unit_id}/reply",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.NotTheUnit, rules.AlreadyDone, rules.ReplyWindowClosed),
    )
    async def reply(
        supervision_id: UUID, unit_id: UnitPath, body: ReplyCreate, uow: UoW, who: Unit, response: Response
    ) -> SupervisionDetail:
        """The unit's reply (申辩) to the feedback, within the reply window."""
        return _detail(await supervisions.reply(uow, who, supervision_id, unit_id, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/opinion",
        response_model=SupervisionDetail,
        responses=problems(
            *_STEP, rules.InvalidSupervision, rules.ReplyWindowOpen, OutsideJurisdiction, UnknownDocumentKind
        ),
    )
    async def issue_opinion(
        supervision_id: UUID, body: OpinionCreate, uow: UoW, who: Office, rt: Rt, response: Response
    ) -> SupervisionDetail:
        """Issue the supervision opinion (督导意见书) with its document number; each rectification
        requirement becomes a finding with its deadline (GET /v1/rectifications?unit_id=…)."""
        opinion = await supervisions.issue_opinion(uow, who, rt.divisions, supervision_id, body)
        return _detail(opinion, response)

    @routes.put(
        "/v1/supervisions/{supervision_id}/report",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, PreconditionFailed, PreconditionRequired),
    )
    async def draft_report(
        supervision_id: UUID,
        body: ReportDraft,
        uow: UoW,
        who: Office,
        response: Response,
        if_match: IfMatch = None,
    ) -> SupervisionDetail:
        """Write the supervision report (督导报告). Send ``If-Match`` with the supervision's ETag."""
        return _detail(await supervisions.draft_report(uow, who, supervision_id, if_match, body), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/report/approve",
        response_model=SupervisionDetail,
        responses=problems(*_STEP, rules.ReportMissing),
    )
    async def approve_report(
        supervision_id: UUID, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Approve the report: it is reported to the government (status ``reported``)."""
        return _detail(await supervisions.approve_report(uow, who, supervision_id), response)

    @routes.post(
        "/v1/supervisions/{supervision_id}/report/publish",
        response_model=SupervisionDetail,
        responses=problems(*_STEP),
    )
    async def publish_report(
        supervision_id: UUID, uow: UoW, who: Office, response: Response
    ) -> SupervisionDetail:
        """Publish the approved report (二七): the public API serves it from now on."""
        return _detail(await supervisions.publish_report(uow, who, supervision_id), response)

    @routes.get("/v1/public/supervision-reports", response_model=PublicReportPage, tags=["public"])
    async def list_public_reports(
        uow: PublicUoW, response: Response, cursor: Cursor = None, limit: Limit = 50, within: Within = None
    ) -> PublicReportPage:
        """Published supervision reports, newest first, without authentication: for portals."""
        rows = await supervisions.public_page(
            uow, after=decode_cursor(cursor), limit=limit + 1, within=within
        )
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        return PublicReportPage(
            items=[public_report(s) for s in rows[:limit]],
            next_cursor=next_cursor([s.id for s in rows], limit),
        )

    @routes.get(
        "/v1/public/supervision-reports/{supervision_id}",
        response_model=PublicReport,
        responses=problems(rules.SupervisionNotFound),
        tags=["public"],
    )
    async def get_public_report(supervision_id: UUID, uow: PublicUoW, response: Response) -> PublicReport:
        """One published supervision report, without authentication; 404 if unknown or not published."""
        report = public_report(await supervisions.public_get(uow, supervision_id))
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        return report

    return routes
