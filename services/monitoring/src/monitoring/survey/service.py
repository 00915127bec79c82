"""The rules of satisfaction surveys (社会认可度). No SQL, no commit.

An office surveys a county (or one of its schools) for one audience and issues single-use links with an
expiry; anyone holding a link answers once, without a login. The county's rate for a year is the share
of satisfied answers among the rated questions answered in all its surveys; published, it becomes the
county's ``recognition.4_1`` in the balanced-development data (standard ≥ 0.85).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode, jurisdiction_prefix
from dudao.encryption import FieldCipher
from dudao.errors import Conflict, DomainError, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_within
from dudao.uow import UnitOfWork
from monitoring.collection import repository as values
from monitoring.indicator import service as indicators
from monitoring.indicator.models import UnitKind
from monitoring.survey import repository
from monitoring.survey.models import Survey, SurveyStatus
from monitoring.survey.schemas import (
    AnswerCreate,
    CountyRate,
    FormRead,
    LinksCreate,
    RatesPublish,
    SurveyCreate,
)

RATE_ELEMENT = "recognition.4_1"
RATE_SYSTEM = "balanced-2017"
CLIENT_PURPOSE = "survey_rate_limit_client"
LONGEST_LINK = timedelta(days=366)


class SurveyNotFound(NotFound):
    type = "survey-not-found"
    title = "No such survey"


class InvalidSurvey(InvalidInput):
    type = "invalid-survey"
    title = "The survey is not consistent"


class SurveyClosed(Conflict):
    type = "survey-closed"
    title = "The survey is closed and takes no more answers"


class LinkNotFound(NotFound):
    type = "survey-link-not-found"
    title = "No survey link has this token"


class LinkUsed(Conflict):
    type = "survey-link-used"
    title = "This link has been answered already: one answer per link"


class LinkExpired(DomainError):
    status = 410
    type = "survey-link-expired"
    title = "This link has expired"


class InvalidAnswer(InvalidInput):
    type = "invalid-survey-answer"
    title = "The answer does not fit the survey's questions"


class TooManyRequests(DomainError):
    status = 429
    type = "too-many-requests"
    title = "Too many requests from your address; try again later"


def token_hash(token: str) -> str:
    """Tokens carry 256 random bits: a plain SHA-256 is as good as a keyed one against guessing."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: SurveyCreate
) -> dict[str, Any]:
    county = require_within(divisions, who, body.division_code)
    if county.level != "county":
        raise InvalidDivisionCode(f"{body.division_code} is a {county.level}; a survey is of a county")
    if body.school_id is not None:
        roster = await values.roster_schools(uow.session, prefix=county.code, ids=[str(body.school_id)])
        if not roster:
            raise field_error(InvalidSurvey, "school_id", f"is not a school of {county.code} on the roster")
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        **body.model_dump(mode="json", include={"title", "audience", "year", "questions"}),
        "division_code": county.code,
        "school_id": body.school_id,
        "status": SurveyStatus.OPEN,
        "created_by": who.sub,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_survey(uow, row)
    uow.record("survey.created", "survey", row["id"], county.code, audience=body.audience.value)
    return row


async def get(uow: UnitOfWork, who: Principal, survey_id: UUID, *, for_update: bool = False) -> Survey:
    survey = await repository.get_survey(uow.session, who, survey_id, for_update=for_update)
    if survey is None:
        raise SurveyNotFound(f"Survey {survey_id} does not exist")
    return survey


async def page(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[Survey]:
    return await repository.page_surveys(uow.session, who, **filters)


async def close(uow: UnitOfWork, who: Principal, survey_id: UUID, if_match: str | None) -> Survey:
    survey = await get(uow, who, survey_id, for_update=True)
    require_match(if_match, survey.id, survey.version)
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyClosed("The survey is closed already")
    changes = {"status": SurveyStatus.CLOSED, "version": survey.version + 1, "updated_at": uow.clock.now()}
    repository.update_survey(uow, {"id": survey.id, **changes})
    uow.record("survey.closed", "survey", survey.id, survey.division_code)
    for name, value in changes.items():
        setattr(survey, name, value)
    return survey


async def issue_links(
    uow: UnitOfWork, who: Principal, survey_id: UUID, body: LinksCreate
) -> tuple[Survey, list[str]]:
    """``body.count`` fresh tokens; only their hashes are written."""
    survey = await get(uow, who, survey_id)
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyClosed("A closed survey gets no links")
    now = uow.clock.now()
    if body.expires_at <= now:
        raise field_error(InvalidSurvey, "expires_at", "is not in the future")
    if body.expires_at > now + LONGEST_LINK:
        raise field_error(InvalidSurvey, "expires_at", f"is more than {LONGEST_LINK.days} days away")
    tokens = [secrets.token_urlsafe(32) for _ in range(body.count)]
    repository.add_links(
        uow,
        [
            {
                "id": uuid7(),
                "survey_id": survey.id,
                "token_hash": token_hash(t),
                "expires_at": body.expires_at,
                "used": False,
                "created_at": now,
            }
            for t in tokens
        ],
    )
    uow.record("survey.links_issued", "survey", survey.id, survey.division_code, count=body.count)
    return survey, tokens


# --- the public routes ----------------------------------------------------------------------------------


async def throttle(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    address: str | None,
    now: datetime,
    *,
    limit: int,
    window_seconds: int,
) -> None:
    """Count the request against its client address's fixed window, in a transaction of its own (a
    refused or bad request counts too); 429 past ``limit``. The address is kept only as a keyed hash."""
    key = cipher.blind_index(address or "unknown", purpose=CLIENT_PURPOSE)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)
    async with sessions() as session, session.begin():
        hits = await repository.count_hit(session, key, start)
    if hits > limit:
        retry = window_seconds - epoch % window_seconds
        raise TooManyRequests(f"At most {limit} requests per {window_seconds} s", retry_after=retry)


async def _open_link(uow: UnitOfWork, token: str, *, for_update: bool = False) -> tuple[Any, Survey]:
    link = await repository.link_by_hash(uow.session, token_hash(token), for_update=for_update)
    if link is None:
        raise LinkNotFound("Check the link you were sent")
    if link.used:
        raise LinkUsed()
    if link.expires_at <= uow.clock.now():
        raise LinkExpired(f"The link expired at {link.expires_at.isoformat()}")
    survey = await repository.survey_of(uow.session, link.survey_id)
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyClosed()
    return link, survey


async def form(uow: UnitOfWork, token: str) -> FormRead:
    """The questions a link asks (not which options count as satisfied)."""
    link, survey = await _open_link(uow, token)
    return FormRead.model_validate(
        {
            "title": survey.title,
            "audience": survey.audience,
            "year": survey.year,
            "questions": survey.questions,
            "expires_at": link.expires_at,
        }
    )


def _score(survey: Survey, answers: dict[str, str]) -> tuple[int, int]:
    """(rated questions, satisfied ones), or a 422 naming the answer that does not fit."""
    asked = {q["code"]: q for q in survey.questions}
    for code in answers:
        if code not in asked:
            raise field_error(InvalidAnswer, f"answers.{code}", "is not a question of this survey")
    rated = satisfied = 0
    for code, question in asked.items():
        chosen = answers.get(code)
        if chosen is None:
            raise field_error(InvalidAnswer, f"answers.{code}", "is not answered")
        options = {o["code"]: o["satisfied"] for o in question["options"]}
        if chosen not in options:
            raise field_error(InvalidAnswer, f"answers.{code}", f"{chosen!r} is not one of its options")
        if any(options.values()):
            rated += 1
            satisfied += options[chosen]
    return rated, satisfied


async def answer(uow: UnitOfWork, body: AnswerCreate) -> Survey:
    """The link's one answer: the link is locked, checked, and marked used with the answer written."""
    link, survey = await _open_link(uow, body.token, for_update=True)
    rated, satisfied = _score(survey, body.answers)
    repository.use_link(uow, link.id)
    answer_id = uuid7()
    repository.add_answer(
        uow,
        {
            "id": answer_id,
            "survey_id": survey.id,
            "division_code": survey.division_code,
            "year": survey.year,
            "audience": survey.audience,
            "answers": body.answers,
            "rated": rated,
            "satisfied": satisfied,
            "answered_on": uow.clock.today(),
        },
    )
    # Audited without the respondent's address: the answer is anonymous.
    uow.actor = replace(uow.actor, source_address=None)
    uow.record("survey.answered", "survey", survey.id, survey.division_code)
    return survey


# --- rates ----------------------------------------------------------------------------------------------


def _rates(rows: Sequence[Any], year: int) -> list[CountyRate]:
    return [
        CountyRate(
            division_code=county,
            year=year,
            answers=answers,
            rated=rated,
            satisfied=satisfied,
            rate=round(satisfied / rated, 4) if rated else None,
        )
        for county, answers, rated, satisfied in rows
    ]


async def rates(uow: UnitOfWork, who: Principal, year: int, within: str | None) -> list[CountyRate]:
    """Each county with answers for the year, within the caller's jurisdiction."""
    prefix = within or jurisdiction_prefix(who.division)
    return _rates(await repository.county_counts(uow.session, who, year=year, prefix=prefix), year)


async def _write_rates(uow: UnitOfWork, rates_: list[CountyRate], by: str) -> list[CountyRate]:
    written = [r for r in rates_ if r.rate is not None]
    if not written:
        return []
    system = await indicators.system_by_key(uow, RATE_SYSTEM)
    values.write_approved(
        uow,
        [
            {
                "system_id": system.id,
                "unit_kind": UnitKind.COUNTY,
                "unit_id": r.division_code,
                "division_code": r.division_code,
                "year": r.year,
                "element_code": RATE_ELEMENT,
                "value": Decimal(str(r.rate)),
                "submitted_by": by,
            }
            for r in written
        ],
    )
    return written


async def publish(uow: UnitOfWork, who: Principal, body: RatesPublish) -> list[CountyRate]:
    """The counties' rates written as their ``recognition.4_1`` for the year (replacing earlier ones)."""
    prefix = jurisdiction_prefix(who.division)
    if body.within is not None:
        if not body.within.startswith(prefix):
            raise field_error(InvalidSurvey, "within", "is outside your jurisdiction")
        prefix = body.within
    counted = _rates(
        await repository.county_counts(uow.session, who, year=body.year, prefix=prefix), body.year
    )
    written = await _write_rates(uow, counted, who.sub)
    for rate in written:
        uow.record(
            "survey.rate_published",
            "survey_rate",
            f"{rate.division_code}:{rate.year}",
            rate.division_code,
            rate=rate.rate,
        )
    return written


async def publish_all(uow: UnitOfWork, year: int) -> int:
    """The nightly publication of every county's rate for the year."""
    counted = _rates(await repository.county_counts(uow.session, None, year=year, prefix=""), year)
    return len(await _write_rates(uow, counted, "system"))


async def forget_windows(uow: UnitOfWork, now: datetime, keep: timedelta) -> int:
    return await repository.forget_windows(uow.session, now - keep)
