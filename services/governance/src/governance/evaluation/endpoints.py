"""HTTP for duty evaluation (履行教育职责评价): schemes, rounds, evaluations and the public results."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.evidence.service import UnknownEvidence
from dudao.http.dependencies import CurrentPrincipal, PublicUoW, UoW
from dudao.http.params import IfMatch, Office, Rt, Unit, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page, next_cursor
from dudao.supervision.service import InvalidSupervision
from governance.evaluation import service
from governance.evaluation.models import DutyEvaluation, EvaluationRound, EvaluationStatus
from governance.evaluation.schemas import (
    Conclusion,
    EvaluationDetail,
    EvaluationPage,
    PublicResultPage,
    ReviewOpen,
    RoundCreate,
    RoundPage,
    RoundRead,
    SchemeCreate,
    SchemePage,
    SchemeRead,
    SchemeSummary,
    ScoresWrite,
    SelfEvaluationWrite,
    Year,
)
from governance.unit.service import SupervisedUnitNotFound, UnknownSupervisedUnit

router = transactional_router(tags=["duty evaluation"])

PUBLIC_MAX_AGE = 300  # seconds a portal or proxy may cache the public results
CHANGE = (PreconditionFailed, PreconditionRequired, service.WrongStatus, service.EvaluationNotFound)


def _round(found: EvaluationRound | dict[str, object], response: Response | None = None) -> RoundRead:
    read = RoundRead.model_validate(found)
    if response is not None:
        response.headers["ETag"] = etag(read.id, read.version)
    return read


def _evaluation(found: DutyEvaluation, response: Response) -> EvaluationDetail:
    response.headers["ETag"] = etag(found.id, found.version)
    return EvaluationDetail.model_validate(found)


# Schemes ------------------------------------------------------------------------------------------------


@router.post(
    "/v1/evaluation-schemes",
    status_code=201,
    response_model=SchemeRead,
    responses=problems(service.InvalidScheme, service.NotTheSchemeOwner, service.SchemeEditionTaken),
)
async def record_scheme(body: SchemeCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Record an evaluation scheme (评价方案): content areas with their weights, items with their maximum
    points, scoring rules, criteria and required evidence, annual targets as items of kind
    ``annual_target``, and the grade bands. A new ``key`` is edition 1; an existing key (your office's)
    records its next edition, and rounds opened on an earlier edition keep it."""
    row = await service.record_scheme(uow, who, rt.divisions, body)
    read = SchemeRead.model_validate(row)
    return json_model(read, 201, {"Location": f"/v1/evaluation-schemes/{read.id}"})


@router.get("/v1/evaluation-schemes", response_model=SchemePage)
async def list_schemes(
    uow: UoW,
    who: CurrentPrincipal,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    key: Annotated[str | None, Query(max_length=60)] = None,
) -> SchemePage:
    """The schemes your office may use: its own and those of the offices above it, every edition."""
    rows = await service.scheme_page(
        uow, who, rt.divisions, after=decode_cursor(cursor), limit=limit, key=key
    )
    return SchemePage(
        items=[SchemeSummary.model_validate(s) for s in rows[:limit]],
        next_cursor=next_cursor([s.id for s in rows], limit),
    )


@router.get(
    "/v1/evaluation-schemes/{scheme_id}",
    response_model=SchemeRead,
    responses=problems(service.SchemeNotFound),
)
async def get_scheme(scheme_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt) -> SchemeRead:
    """One edition of a scheme, with all its areas and items."""
    return SchemeRead.model_validate(await service.get_scheme(uow, who, rt.divisions, scheme_id))


# Rounds -------------------------------------------------------------------------------------------------


@router.post(
    "/v1/evaluation-rounds",
    status_code=201,
    response_model=RoundRead,
    responses=problems(
        service.NotAnEvaluatingOffice,
        service.InvalidRound,
        UnknownSupervisedUnit,
        service.RoundYearTaken,
    ),
)
async def open_round(body: RoundCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Open your office's annual round (二三) on an edition of a scheme: the region evaluates its
    departments and the cities' governments, a city its departments and its counties' governments
    (registered units, by id). Each unit gets an evaluation awaiting its self-evaluation."""
    read = _round(await service.open_round(uow, who, rt.divisions, body))
    headers = {"Location": f"/v1/evaluation-rounds/{read.id}", "ETag": etag(read.id, read.version)}
    return json_model(read, 201, headers)


@router.get("/v1/evaluation-rounds", response_model=RoundPage)
async def list_rounds(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[Year | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Rounds run by offices within your jurisdiction; with ``updated_since``, by change time."""
    rows = await service.round_page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        year=year,
        updated_since=updated_since,
    )
    return json_page(RoundPage, rows, limit)


@router.get(
    "/v1/evaluation-rounds/{round_id}", response_model=RoundRead, responses=problems(service.RoundNotFound)
)
async def get_round(round_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response) -> RoundRead:
    """One round; 404 outside your jurisdiction."""
    return _round(await service.get_round(uow, who, round_id), response)


@router.post(
    "/v1/evaluation-rounds/{round_id}/publish",
    response_model=RoundRead,
    responses=problems(
        service.RoundNotFound,
        service.NotTheEvaluatingOffice,
        service.RoundNotConcluded,
        PreconditionFailed,
        PreconditionRequired,
    ),
)
async def publish_round(
    round_id: UUID, uow: UoW, who: Office, response: Response, if_match: IfMatch = None
) -> RoundRead:
    """Publish the round once every evaluation is concluded: the results become public (二七) and reach
    accountability and the organisation departments with their rectification status (二十一)."""
    return _round(await service.publish_round(uow, who, round_id, if_match), response)


# Evaluations --------------------------------------------------------------------------------------------


@router.get("/v1/duty-evaluations", response_model=EvaluationPage)
async def list_evaluations(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    round_id: Annotated[UUID | None, Query()] = None,
    unit_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[EvaluationStatus | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Evaluations of units within your jurisdiction (a supervised unit: its own); with ``updated_since``,
    by change time."""
    rows = await service.evaluation_page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit,
        within=within,
        round_id=round_id,
        unit_id=unit_id,
        status=status,
        updated_since=updated_since,
    )
    return json_page(EvaluationPage, rows, limit)


@router.get(
    "/v1/duty-evaluations/{evaluation_id}",
    response_model=EvaluationDetail,
    responses=problems(service.EvaluationNotFound),
)
async def get_evaluation(
    evaluation_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response
) -> EvaluationDetail:
    """One evaluation with its items; 404 outside your jurisdiction or, for a supervised unit, another's."""
    return _evaluation(await service.get_evaluation(uow, who, evaluation_id), response)


@router.put(
    "/v1/duty-evaluations/{evaluation_id}/self-evaluation",
    response_model=EvaluationDetail,
    responses=problems(
        *CHANGE, service.NotTheUnit, service.SelfEvaluationClosed, service.InvalidScores, UnknownEvidence
    ),
)
async def self_evaluate(
    evaluation_id: UUID,
    body: SelfEvaluationWrite,
    uow: UoW,
    who: Unit,
    response: Response,
    if_match: IfMatch = None,
) -> EvaluationDetail:
    """The unit's self-evaluation (自评), by the unit itself (``org`` = its id): every item of the scheme,
    with points (or the issues of a deduction item) and the evidence the item requires. Send ``If-Match``."""
    return _evaluation(await service.self_evaluate(uow, who, evaluation_id, if_match, body), response)


@router.post(
    "/v1/duty-evaluations/{evaluation_id}/review",
    response_model=EvaluationDetail,
    responses=problems(*CHANGE, service.NotTheEvaluatingOffice, SupervisedUnitNotFound, InvalidSupervision),
)
async def open_review(
    evaluation_id: UUID,
    body: ReviewOpen,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> EvaluationDetail:
    """Review the self-evaluation by the supervision procedure: opens a comprehensive supervision of the
    unit (see ``supervision_id``) whose checklist is the scheme's items; its opinion's rectification
    requirements become the evaluation's findings. Send ``If-Match``."""
    return _evaluation(
        await service.open_review(uow, who, rt.divisions, evaluation_id, if_match, body), response
    )


@router.put(
    "/v1/duty-evaluations/{evaluation_id}/scores",
    response_model=EvaluationDetail,
    responses=problems(*CHANGE, service.NotTheEvaluatingOffice, service.InvalidScores),
)
async def score(
    evaluation_id: UUID,
    body: ScoresWrite,
    uow: UoW,
    who: Office,
    response: Response,
    if_match: IfMatch = None,
) -> EvaluationDetail:
    """The office's points for every item (评分): the total and the grade follow from the scheme's
    weights and bands. May be sent again until the evaluation is concluded. Send ``If-Match``."""
    return _evaluation(await service.score(uow, who, evaluation_id, if_match, body), response)


@router.post(
    "/v1/duty-evaluations/{evaluation_id}/conclude",
    response_model=EvaluationDetail,
    responses=problems(*CHANGE, service.NotTheEvaluatingOffice, service.ReviewNotFinished),
)
async def conclude(
    evaluation_id: UUID, body: Conclusion, uow: UoW, who: Office, response: Response, if_match: IfMatch = None
) -> EvaluationDetail:
    """Conclude the evaluation with its feedback once the review's supervision opinion is issued. Emits
    ``dudao.governance.evaluation.concluded.v1``, on which accountability acts. Send ``If-Match``."""
    return _evaluation(await service.conclude(uow, who, evaluation_id, if_match, body), response)


# The public results (二七) --------------------------------------------------------------------------------


@router.get("/v1/public/duty-evaluation-results", response_model=PublicResultPage, tags=["public"])
async def list_public_results(
    uow: PublicUoW,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[Year | None, Query()] = None,
    round_id: Annotated[UUID | None, Query()] = None,
) -> Response:
    """Published duty-evaluation results, without authentication, for the government portal (二七):
    round, unit, score and grade only."""
    rows = await service.public_page(
        uow, after=decode_cursor(cursor), limit=limit, year=year, round_id=round_id, within=within
    )
    page = json_page(PublicResultPage, rows, limit)
    page.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return page
