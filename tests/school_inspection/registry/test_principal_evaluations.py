"""Principal term evaluations (校长任期履职评价): strict scores, and a failing grade enters the loop."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.db import kit
from tests.school_inspection.registry.conftest import assert_problem, counts, register

SCORES = {
    "plan_development": 82,
    "school_culture": 78,
    "curriculum_teaching": 85,
    "teacher_growth": 80,
    "internal_management": 76,
    "external_environment": 88,
}


def evaluation(**overrides: Any) -> dict[str, Any]:
    return {
        "term_start": "2021-09-01",
        "term_end": "2024-08-31",
        "evaluator": "北海市海城区人民政府教育督导室",
        "scores": SCORES,
        "grade": "good",
        "comments": "办学思路清晰，课程管理规范",
        **overrides,
    }


@pytest.fixture
async def school(inspection: httpx.AsyncClient, office: dict[str, str]) -> dict[str, Any]:
    return await register(inspection, office, principal={"name": "韦校长", "phone": "13877900001"})


async def test_an_evaluation_is_recorded_for_the_schools_principal_and_listed_by_cursor(
    inspection: httpx.AsyncClient, office: dict[str, str], inspector: dict[str, str], school: dict[str, Any]
) -> None:
    url = f"/v1/schools/{school['id']}/principal-evaluations"
    first = await inspection.post(url, json=evaluation(), headers=office)
    assert first.status_code == 201, first.text
    assert (first.json()["principal_name"], first.json()["rectification_id"]) == ("韦校长", None)
    second = await inspection.post(
        url, json=evaluation(principal_name="前任校长", grade="excellent"), headers=office
    )
    assert second.json()["principal_name"] == "前任校长"

    page = (await inspection.get(url, params={"limit": 1}, headers=inspector)).json()
    assert [e["id"] for e in page["items"]] == [first.json()["id"]]
    rest = (await inspection.get(url, params={"cursor": page["next_cursor"]}, headers=inspector)).json()
    assert ([e["id"] for e in rest["items"]], rest["next_cursor"]) == ([second.json()["id"]], None)


async def test_a_failing_grade_raises_a_finding_that_enters_the_rectification_loop(
    inspection: httpx.AsyncClient, office: dict[str, str], school: dict[str, Any], engine: AsyncEngine
) -> None:
    body = evaluation(
        grade="fail", rectification={"deadline": {"days": 20}, "competent_department": "海城区教育局"}
    )
    response = await inspection.post(
        f"/v1/schools/{school['id']}/principal-evaluations", json=body, headers=office
    )
    assert response.status_code == 201, response.text
    rectification_id = response.json()["rectification_id"]
    assert rectification_id

    rectification = await inspection.get(f"/v1/rectifications/{rectification_id}", headers=office)
    assert rectification.status_code == 200, rectification.text
    finding = rectification.json()["finding"]
    assert (finding["category"], finding["unit_id"], finding["unit_kind"]) == (
        "principal_evaluation",
        school["school_code"],
        "school",
    )
    assert finding["competent_department"] == "海城区教育局"
    assert rectification.json()["deadline"] == (clock.today() + timedelta(days=20)).isoformat()
    async with engine.connect() as conn:
        opened = (
            await conn.execute(
                select(kit.outbox.c.envelope).where(
                    kit.outbox.c.envelope["data"]["rectification_id"].astext == rectification_id
                )
            )
        ).scalar_one()
    assert opened["type"] == "dudao.school-inspection.rectification.opened.v1"
    assert opened["data"]["category"] == "principal_evaluation"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scores": {"plan_development": True}}, "scores.plan_development"),
        ({"scores": {"plan_development": "90"}}, "scores.plan_development"),
        ({"scores": {"plan_development": 101}}, "scores.plan_development"),
        ({"scores": {"plan_development": -1}}, "scores.plan_development"),
        ({"scores": {"plan_development": 90.5}}, "scores.plan_development"),
        ({"scores": {}}, "scores"),
        ({"scores": {"Bad Key": 90}}, "scores.Bad Key.[key]"),
        ({"grade": "very_good"}, "grade"),
        ({"term_end": "2021-08-31"}, "term_end"),
        ({"term_start": 20210901}, "term_start"),
        ({"rectification": {"deadline": {"days": 30}}}, "rectification"),
        ({"evaluator": ""}, "evaluator"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_evaluations_are_refused_and_write_nothing(
    inspection: httpx.AsyncClient,
    office: dict[str, str],
    school: dict[str, Any],
    engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str,
) -> None:
    before = await counts(engine, "principal_evaluation")
    response = await inspection.post(
        f"/v1/schools/{school['id']}/principal-evaluations", json=evaluation(**overrides), headers=office
    )
    assert field in {e["field"] for e in assert_problem(response, 422)["errors"]}
    assert await counts(engine, "principal_evaluation") == before


async def test_an_unnamed_principal_or_a_term_not_yet_started_cannot_be_evaluated(
    inspection: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine
) -> None:
    unnamed = await register(inspection, office)
    url = f"/v1/schools/{unnamed['id']}/principal-evaluations"
    before = await counts(engine, "principal_evaluation", "finding")
    assert_problem(
        await inspection.post(url, json=evaluation(grade="fail"), headers=office), 422, "principal-unnamed"
    )
    future = clock.today() + timedelta(days=10)
    late = evaluation(
        principal_name="韦校长",
        term_start=future.isoformat(),
        term_end=date(future.year + 3, 8, 31).isoformat(),
    )
    assert_problem(await inspection.post(url, json=late, headers=office), 422, "term-not-started")
    assert await counts(engine, "principal_evaluation", "finding") == before


async def test_evaluations_stay_within_jurisdiction_and_only_offices_record_them(
    inspection: httpx.AsyncClient,
    office: dict[str, str],
    other_office: dict[str, str],
    inspector: dict[str, str],
    school: dict[str, Any],
    engine: AsyncEngine,
) -> None:
    url = f"/v1/schools/{school['id']}/principal-evaluations"
    before = await counts(engine, "principal_evaluation")
    assert_problem(
        await inspection.post(url, json=evaluation(), headers=other_office), 404, "school-not-found"
    )
    assert_problem(await inspection.post(url, json=evaluation(), headers=inspector), 403)
    assert await counts(engine, "principal_evaluation") == before
    assert (await inspection.post(url, json=evaluation(), headers=office)).status_code == 201
    assert_problem(await inspection.get(url, headers=other_office), 404)
