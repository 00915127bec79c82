"""HTTP for satisfaction surveys (社会认可度): the offices' surveys, links and rates, and the two public
routes a link's holder uses without a login (rate limited per client address)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.calendar.schemas import Year
from dudao.divisions.tree import InvalidDivisionCode
from dudao.encryption import field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import PublicUoW, UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, InvalidCursor, Limit, UpdatedSince, decode_cursor, page_of
from dudao.runtime import Runtime
from dudao.uow import UnitOfWork
from monitoring.survey import service
from monitoring.survey.models import Audience, Survey
from monitoring.survey.schemas import (
    AnswerAccepted,
    AnswerCreate,
    CountyRates,
    FormRead,
    FormRequest,
    LinksCreate,
    LinksIssued,
    RatesPublish,
    SurveyCreate,
    SurveyPage,
    SurveyRead,
)

router = transactional_router(tags=["satisfaction surveys"])


def _survey(survey: Survey | dict[str, object], status: int = 200) -> Response:
    read = SurveyRead.model_validate(survey)
    headers = {"ETag": etag(read.id, read.version)}
    if status == 201:
        headers["Location"] = f"/v1/surveys/{read.id}"
    return json_model(read, status, headers)


@router.post(
    "/v1/surveys",
    status_code=201,
    response_model=SurveyRead,
    responses=problems(service.InvalidSurvey, InvalidDivisionCode, DivisionOutsideJurisdiction),
)
async def create_survey(body: SurveyCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """A satisfaction survey of a county (or one of its schools) for one audience, with its questions."""
    return _survey(await service.create(uow, who, rt.divisions, body), 201)


@router.get("/v1/surveys", response_model=SurveyPage, responses=problems(InvalidCursor))
async def list_surveys(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    year: Annotated[Year | None, Query()] = None,
    audience: Annotated[Audience | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> SurveyPage:
    """The surveys of the counties within your jurisdiction."""
    rows = await service.page(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        within=within,
        year=year,
        audience=audience,
        updated_since=updated_since,
    )
    return page_of(SurveyPage, SurveyRead, rows, limit)


@router.get("/v1/surveys/{survey_id}", response_model=SurveyRead, responses=problems(service.SurveyNotFound))
async def get_survey(survey_id: UUID, uow: UoW, who: Inspecting) -> Response:
    """One survey with its questions; 404 if it is another jurisdiction's."""
    return _survey(await service.get(uow, who, survey_id))


@router.post(
    "/v1/surveys/{survey_id}/closing",
    response_model=SurveyRead,
    responses=problems(
        service.SurveyNotFound, service.SurveyClosed, PreconditionFailed, PreconditionRequired
    ),
)
async def close_survey(survey_id: UUID, uow: UoW, who: Office, if_match: IfMatch = None) -> Response:
    """Close the survey: its links take no more answers. Send ``If-Match``."""
    return _survey(await service.close(uow, who, survey_id, if_match))


@router.post(
    "/v1/surveys/{survey_id}/links",
    status_code=201,
    response_model=LinksIssued,
    responses=problems(service.SurveyNotFound, service.SurveyClosed, service.InvalidSurvey),
)
async def issue_links(survey_id: UUID, body: LinksCreate, uow: UoW, who: Office) -> Response:
    """Single-use links: their tokens, shown this once (only their hashes are kept)."""
    survey, tokens = await service.issue_links(uow, who, survey_id, body)
    issued = LinksIssued(survey_id=survey.id, expires_at=body.expires_at, tokens=tokens)
    return json_model(issued, 201, {"Location": f"/v1/surveys/{survey.id}", "Cache-Control": "no-store"})


@router.get("/v1/survey-rates", response_model=CountyRates)
async def county_rates(
    uow: UoW, who: Inspecting, year: Annotated[Year, Query()], within: Within = None
) -> CountyRates:
    """Each county's satisfaction rate for the year so far: satisfied answers among the rated ones."""
    return CountyRates(year=year, items=await service.rates(uow, who, year, within))


@router.post("/v1/survey-rates", response_model=CountyRates, responses=problems(service.InvalidSurvey))
async def publish_rates(body: RatesPublish, uow: UoW, who: Office) -> CountyRates:
    """Write the counties' rates as their ``recognition.4_1`` (社会认可度) for the balanced-development
    verdict now, rather than at night."""
    return CountyRates(year=body.year, items=await service.publish(uow, who, body))


# --- public: a link's holder, without a login ------------------------------------------------------------

_LINK_PROBLEMS = problems(
    service.LinkNotFound, service.LinkUsed, service.LinkExpired, service.SurveyClosed, service.TooManyRequests
)


async def _throttle(rt: Runtime, uow: UnitOfWork) -> None:
    await service.throttle(
        rt.sessions,
        field_cipher(rt.settings),
        uow.actor.source_address,
        uow.clock.now(),
        limit=rt.settings.survey_requests_per_window,
        window_seconds=rt.settings.survey_window_seconds,
    )


@router.post("/v1/public/survey-form", response_model=FormRead, responses=_LINK_PROBLEMS, tags=["public"])
async def survey_form(body: FormRequest, uow: PublicUoW, rt: Rt) -> FormRead:
    """The questions of the survey a link's token opens (the token goes in the body, never in a URL)."""
    await _throttle(rt, uow)
    return await service.form(uow, body.token)


@router.post(
    "/v1/public/survey-answers",
    status_code=201,
    response_model=AnswerAccepted,
    responses={**_LINK_PROBLEMS, **problems(service.InvalidAnswer)},
    tags=["public"],
)
async def answer_survey(body: AnswerCreate, uow: PublicUoW, rt: Rt) -> AnswerAccepted:
    """Answer a survey: one answer per link, every question with one of its options. Anonymous: the
    answer is not tied to the link, and is not readable back (so there is no ``Location``)."""
    await _throttle(rt, uow)
    survey = await service.answer(uow, body)
    return AnswerAccepted(survey_title=survey.title, answered_on=uow.clock.today())
