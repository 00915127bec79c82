"""Satisfaction surveys over HTTP: the office's surveys and links, anonymous answers through single-use
links without a login, the public routes' rate limit, and the county rate written for the verdict."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import BUSINESS_TZ, Clock
from dudao.config import Settings
from dudao.db import session_factory
from dudao.http.app import create_service_app
from dudao.uow import UnitOfWork
from monitoring.collection import repository as values
from monitoring.db import kit
from monitoring.main import spec
from monitoring.survey import scheduled as survey_jobs
from monitoring.survey.models import Survey, SurveyAnswer, SurveyClientWindow, SurveyLink
from monitoring.survey.service import token_hash
from tests.conftest import TokenFactory, bearer, serve

COUNTY, OTHER_COUNTY = "450123", "450124"  # 隆安县, 马山县
SATISFACTION = [
    {"code": "very", "label": "非常满意", "satisfied": True},
    {"code": "yes", "label": "满意", "satisfied": True},
    {"code": "no", "label": "不满意", "satisfied": False},
]


def survey_body(**changes: Any) -> dict[str, Any]:
    return {
        "title": "隆安县义务教育优质均衡发展社会认可度调查（家长卷）",
        "division_code": COUNTY,
        "audience": "parents",
        "year": 2024,
        "questions": [
            {"code": "q1", "text": "您对孩子学校的办学条件是否满意？", "options": SATISFACTION},
            {"code": "q2", "text": "您对学校的教育教学质量是否满意？", "options": SATISFACTION},
            {
                "code": "grade",
                "text": "您的孩子就读几年级？",
                "options": [
                    {"code": "low", "label": "1-3年级", "satisfied": False},
                    {"code": "high", "label": "4-6年级", "satisfied": False},
                ],
            },
        ],
        **changes,
    }


def client_address() -> dict[str, str]:
    """A client address of the test's own, so no other test's requests count against its window."""
    return {"X-Forwarded-For": f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(256)}"}


@pytest.fixture
def office(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=COUNTY))


async def count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def links(monitoring: httpx.AsyncClient, office: dict[str, str], survey_id: str, n: int) -> list[str]:
    expires = (Clock().now() + timedelta(days=30)).isoformat()
    issued = await monitoring.post(
        f"/v1/surveys/{survey_id}/links", json={"count": n, "expires_at": expires}, headers=office
    )
    assert issued.status_code == 201, issued.text
    tokens: list[str] = issued.json()["tokens"]
    return tokens


async def new_survey(monitoring: httpx.AsyncClient, office: dict[str, str], **changes: Any) -> dict[str, Any]:
    created = await monitoring.post("/v1/surveys", json=survey_body(**changes), headers=office)
    assert created.status_code == 201, created.text
    survey: dict[str, Any] = created.json()
    return survey


async def test_an_office_surveys_a_county_or_school_and_bad_surveys_write_nothing(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    token: TokenFactory,
    monitoring_engine: AsyncEngine,
    roster: Callable[..., Awaitable[list[dict[str, Any]]]],
) -> None:
    [school] = await roster(1, COUNTY)
    before = await count(monitoring_engine, Survey)
    twice = survey_body()["questions"][0]
    bad = [
        (survey_body(questions=[twice, twice]), "questions"),
        (survey_body(questions=[{**twice, "options": SATISFACTION[:1]}]), "questions.0.options"),
        (survey_body(audience="neighbours"), "audience"),
        (survey_body(year="2024"), "year"),
        (survey_body(school_id=str(UUID(int=1))), "school_id"),
    ]
    for body, field in bad:
        response = await monitoring.post("/v1/surveys", json=body, headers=office)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    city = bearer(token("supervision_office", division="450100"))
    of_city = await monitoring.post("/v1/surveys", json=survey_body(division_code="450100"), headers=city)
    assert of_city.status_code == 422, of_city.text  # a survey is of a county
    outside = await monitoring.post(
        "/v1/surveys", json=survey_body(division_code=OTHER_COUNTY), headers=office
    )
    assert outside.status_code == 403, outside.text
    assert await count(monitoring_engine, Survey) == before

    created = await monitoring.post(
        "/v1/surveys", json=survey_body(school_id=str(school["school_id"])), headers=office
    )
    assert created.status_code == 201, created.text
    survey = created.json()
    assert created.headers["Location"] == f"/v1/surveys/{survey['id']}"
    assert (survey["school_id"], survey["status"]) == (str(school["school_id"]), "open")
    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await monitoring.get(f"/v1/surveys/{survey['id']}", headers=elsewhere)).status_code == 404
    listed = await monitoring.get("/v1/surveys", params={"audience": "parents", "year": 2024}, headers=office)
    assert survey["id"] in [s["id"] for s in listed.json()["items"]]


async def test_a_link_takes_one_anonymous_answer_without_a_login(
    monitoring: httpx.AsyncClient, office: dict[str, str], monitoring_engine: AsyncEngine
) -> None:
    survey = await new_survey(monitoring, office)
    [token, other] = await links(monitoring, office, survey["id"], 2)
    async with monitoring_engine.connect() as conn:
        stored = set(
            (
                await conn.execute(
                    select(SurveyLink.token_hash).where(SurveyLink.survey_id == UUID(survey["id"]))
                )
            ).scalars()
        )
    assert stored == {token_hash(token), token_hash(other)}  # the tokens themselves are nowhere

    address = client_address()
    form = await monitoring.post("/v1/public/survey-form", json={"token": token}, headers=address)
    assert form.status_code == 200, form.text
    assert [q["code"] for q in form.json()["questions"]] == ["q1", "q2", "grade"]
    assert "satisfied" not in form.json()["questions"][0]["options"][0]

    answers_before = await count(monitoring_engine, SurveyAnswer)
    for answers, field in [
        ({"q1": "yes", "q2": "no"}, "answers.grade"),
        ({"q1": "yes", "q2": "maybe", "grade": "low"}, "answers.q2"),
        ({"q1": "yes", "q2": "no", "grade": "low", "q9": "yes"}, "answers.q9"),
    ]:
        bad = await monitoring.post(
            "/v1/public/survey-answers", json={"token": token, "answers": answers}, headers=address
        )
        assert bad.status_code == 422, bad.text
        assert [e["field"] for e in bad.json()["errors"]] == [field]
    assert await count(monitoring_engine, SurveyAnswer) == answers_before  # and the link is still unused

    body = {"token": token, "answers": {"q1": "very", "q2": "no", "grade": "high"}}
    answered = await monitoring.post("/v1/public/survey-answers", json=body, headers=address)
    assert answered.status_code == 201, answered.text
    assert answered.json()["survey_title"] == survey["title"]
    again = await monitoring.post("/v1/public/survey-answers", json=body, headers=address)
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("survey-link-used")

    async with monitoring_engine.connect() as conn:
        [row] = (
            await conn.execute(select(SurveyAnswer).where(SurveyAnswer.survey_id == UUID(survey["id"])))
        ).all()
        audit = kit.audit_log
        entries = (
            await conn.execute(
                select(audit.c.actor, audit.c.source_address).where(
                    audit.c.action == "survey.answered", audit.c.record_id == survey["id"]
                )
            )
        ).all()
    assert (row.rated, row.satisfied) == (2, 1)  # the grade question has no satisfied option: not rated
    assert not hasattr(row, "link_id")
    assert entries == [("anonymous", None)]  # audited, without the respondent's address


async def test_unknown_expired_and_closed_links_take_no_answers(
    monitoring: httpx.AsyncClient, office: dict[str, str], monitoring_engine: AsyncEngine
) -> None:
    survey = await new_survey(monitoring, office)
    [expiring, closing] = await links(monitoring, office, survey["id"], 2)
    address = client_address()
    body = {"answers": {"q1": "yes", "q2": "yes", "grade": "low"}}
    unknown = await monitoring.post(
        "/v1/public/survey-answers", json={**body, "token": secrets.token_urlsafe(32)}, headers=address
    )
    assert unknown.status_code == 404, unknown.text
    malformed = await monitoring.post(
        "/v1/public/survey-answers", json={**body, "token": "short"}, headers=address
    )
    assert malformed.status_code == 422, malformed.text

    async with monitoring_engine.begin() as conn:
        await conn.execute(
            update(SurveyLink)
            .where(SurveyLink.token_hash == token_hash(expiring))
            .values(expires_at=Clock().now())
        )
    expired = await monitoring.post(
        "/v1/public/survey-answers", json={**body, "token": expiring}, headers=address
    )
    assert expired.status_code == 410, expired.text

    read = await monitoring.get(f"/v1/surveys/{survey['id']}", headers=office)
    closed = await monitoring.post(
        f"/v1/surveys/{survey['id']}/closing", headers={**office, "If-Match": read.headers["ETag"]}
    )
    assert closed.status_code == 200, closed.text
    refused = await monitoring.post(
        "/v1/public/survey-answers", json={**body, "token": closing}, headers=address
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("survey-closed")


async def test_the_public_routes_are_rate_limited_per_client_address(
    settings: Settings, office: dict[str, str]
) -> None:
    limited = settings.model_copy(update={"survey_requests_per_window": 3, "survey_window_seconds": 3600})
    async with serve(create_service_app(spec, limited)) as monitoring:
        survey = await new_survey(monitoring, office)
        [token] = await links(monitoring, office, survey["id"], 1)
        address, neighbour = client_address(), client_address()
        for _ in range(3):
            ok = await monitoring.post("/v1/public/survey-form", json={"token": token}, headers=address)
            assert ok.status_code == 200, ok.text
        refused = await monitoring.post(
            "/v1/public/survey-answers",
            json={"token": token, "answers": {"q1": "yes", "q2": "yes", "grade": "low"}},
            headers=address,
        )
        assert refused.status_code == 429, refused.text
        assert refused.json()["retry_after"] > 0
        # Another address has its own window; the refused answer did not use the link.
        answered = await monitoring.post(
            "/v1/public/survey-answers",
            json={"token": token, "answers": {"q1": "yes", "q2": "yes", "grade": "low"}},
            headers=neighbour,
        )
        assert answered.status_code == 201, answered.text


async def test_the_county_rate_becomes_its_recognition_value(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    token: TokenFactory,
    monitoring_engine: AsyncEngine,
    system_id: UUID,
) -> None:
    year = 2023
    parents = await new_survey(monitoring, office, year=year)
    teachers = await new_survey(monitoring, office, year=year, audience="teachers", title="教师卷")
    address = client_address()
    for survey, choices in [(parents, ["very", "yes", "no"]), (teachers, ["yes", "yes", "yes"])]:
        tokens = await links(monitoring, office, survey["id"], len(choices))
        for t, choice in zip(tokens, choices, strict=True):
            answered = await monitoring.post(
                "/v1/public/survey-answers",
                json={"token": t, "answers": {"q1": choice, "q2": "yes", "grade": "low"}},
                headers=address,
            )
            assert answered.status_code == 201, answered.text

    rates = await monitoring.get("/v1/survey-rates", params={"year": year}, headers=office)
    assert rates.status_code == 200, rates.text
    [rate] = rates.json()["items"]
    # 6 answers × 2 rated questions = 12; all satisfied but one q1 "no": 11/12.
    assert (rate["division_code"], rate["answers"], rate["rated"], rate["satisfied"]) == (COUNTY, 6, 12, 11)
    assert rate["rate"] == pytest.approx(11 / 12, abs=1e-4)

    region = bearer(token("supervision_office", division="450000"))
    outside = await monitoring.post("/v1/survey-rates", json={"year": year, "within": "4502"}, headers=office)
    assert outside.status_code == 422, outside.text
    published = await monitoring.post(
        "/v1/survey-rates", json={"year": year, "within": COUNTY}, headers=region
    )
    assert published.status_code == 200, published.text
    async with session_factory(monitoring_engine)() as session:
        rows = await values.approved(
            session, system_id=system_id, year=year, division_prefix=COUNTY, element_codes=["recognition.4_1"]
        )
    [row] = rows
    assert (row.unit_kind, row.unit_id) == ("county", COUNTY)
    assert float(row.value) == pytest.approx(11 / 12, abs=1e-4)


async def test_every_night_the_rates_are_published_and_old_windows_forgotten(
    monitoring: httpx.AsyncClient, token: TokenFactory, monitoring_engine: AsyncEngine, system_id: UUID
) -> None:
    county = "450125"  # 上林县
    office = bearer(token("supervision_office", division=county))
    today = Clock().today()
    survey = await new_survey(monitoring, office, division_code=county, year=today.year)
    [link] = await links(monitoring, office, survey["id"], 1)
    answered = await monitoring.post(
        "/v1/public/survey-answers",
        json={"token": link, "answers": {"q1": "no", "q2": "yes", "grade": "low"}},
        headers=client_address(),
    )
    assert answered.status_code == 201, answered.text
    stale = Clock().now() - timedelta(days=2)
    async with monitoring_engine.begin() as conn:
        await conn.execute(insert(SurveyClientWindow).values(client_key="f" * 64, window_start=stale, hits=3))

    night = datetime(today.year, today.month, today.day, 2, 15, tzinfo=BUSINESS_TZ)
    async with session_factory(monitoring_engine)() as session:
        uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
        assert await survey_jobs.publish_rates.run(uow, night.replace(hour=14)) == 0  # not by day
        assert await survey_jobs.publish_rates.run(uow, night) >= 1
        assert await survey_jobs.forget_windows.run(uow, night) >= 1
        await uow.commit()
        rows = await values.approved(
            session,
            system_id=system_id,
            year=today.year,
            division_prefix=county,
            element_codes=["recognition.4_1"],
        )
        windows = await session.scalar(
            select(func.count())
            .select_from(SurveyClientWindow)
            .where(SurveyClientWindow.window_start <= stale)
        )
    assert [(r.unit_id, float(r.value)) for r in rows] == [(county, 0.5)]
    assert windows == 0
