"""School self-supervision reports (学校自我督导): by the school itself, one per semester, read by offices."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TokenFactory, bearer
from tests.school_inspection.registry.conftest import COUNTY, OTHER_COUNTY, assert_problem, counts, register


def report(semester: str = "2026-spring", **overrides: Any) -> dict[str, Any]:
    return {
        "semester": semester,
        "items": [
            {"item": "administration", "score": 90, "notes": "章程修订完成"},
            {"item": "campus_safety", "score": 85},
            {"item": "hygiene", "score": 80, "notes": "食堂明厨亮灶改造中"},
        ],
        "summary": "本学期学校自我督导情况报告",
        **overrides,
    }


@pytest.fixture
async def school(inspection: httpx.AsyncClient, office: dict[str, str]) -> dict[str, Any]:
    return await register(inspection, office)


def unit_of(token: TokenFactory, school: dict[str, Any], division: str = COUNTY) -> dict[str, str]:
    return bearer(token("supervised_unit", division=division, org=school["school_code"]))


async def test_a_school_reports_once_per_semester(
    inspection: httpx.AsyncClient, token: TokenFactory, school: dict[str, Any], engine: AsyncEngine
) -> None:
    url = f"/v1/schools/{school['id']}/self-supervision-reports"
    unit = unit_of(token, school)
    first = await inspection.post(url, json=report(), headers=unit)
    assert first.status_code == 201, first.text
    assert first.json()["items"][1] == {"item": "campus_safety", "score": 85, "notes": None}
    assert first.headers["location"] == f"/v1/self-supervision-reports/{first.json()['id']}"

    before = await counts(engine, "self_supervision_report")
    again = await inspection.post(url, json=report(summary="重复提交"), headers=unit)
    assert_problem(again, 409, "self-supervision-already-reported")
    assert await counts(engine, "self_supervision_report") == before
    assert (await inspection.post(url, json=report("2026-autumn"), headers=unit)).status_code == 201


async def test_only_the_school_itself_may_report(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    office: dict[str, str],
    school: dict[str, Any],
    engine: AsyncEngine,
) -> None:
    url = f"/v1/schools/{school['id']}/self-supervision-reports"
    neighbour = await register(inspection, office)
    before = await counts(engine, "self_supervision_report")
    assert_problem(await inspection.post(url, json=report(), headers=office), 403)
    assert_problem(
        await inspection.post(url, json=report(), headers=unit_of(token, neighbour)), 403, "not-the-school"
    )
    far = unit_of(token, school, division=OTHER_COUNTY)  # the right org claim, but not this jurisdiction
    assert_problem(await inspection.post(url, json=report(), headers=far), 404, "school-not-found")
    assert await counts(engine, "self_supervision_report") == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"semester": "2026-fall"}, "semester"),
        ({"semester": "2026-Autumn"}, "semester"),
        ({"semester": "26-autumn"}, "semester"),
        ({"semester": 2026}, "semester"),
        ({"items": []}, "items"),
        ({"items": [{"item": "hygiene", "score": 101}]}, "items.0.score"),
        ({"items": [{"item": "hygiene", "score": True}]}, "items.0.score"),
        ({"items": [{"item": "hygiene", "score": "80"}]}, "items.0.score"),
        ({"items": [{"item": "canteen", "score": 80}]}, "items.0.item"),
        ({"items": [{"item": "hygiene", "score": 80}, {"item": "hygiene", "score": 70}]}, "items"),
        ({"summary": ""}, "summary"),
    ],
)
async def test_bad_reports_are_refused_and_write_nothing(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    school: dict[str, Any],
    engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str,
) -> None:
    before = await counts(engine, "self_supervision_report")
    response = await inspection.post(
        f"/v1/schools/{school['id']}/self-supervision-reports",
        json=report(**overrides),
        headers=unit_of(token, school),
    )
    assert field in {e["field"] for e in assert_problem(response, 422)["errors"]}
    assert await counts(engine, "self_supervision_report") == before


async def test_offices_read_reports_within_their_jurisdiction_and_a_school_reads_its_own(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    office: dict[str, str],
    other_office: dict[str, str],
    inspector: dict[str, str],
    school: dict[str, Any],
) -> None:
    created = await inspection.post(
        f"/v1/schools/{school['id']}/self-supervision-reports",
        json=report("2025-autumn"),
        headers=unit_of(token, school),
    )
    report_id = created.json()["id"]

    listed = await inspection.get(
        "/v1/self-supervision-reports", params={"semester": "2025-autumn", "limit": 500}, headers=office
    )
    assert report_id in {r["id"] for r in listed.json()["items"]}
    city = bearer(token("supervision_office", division="450500"))
    assert report_id in {
        r["id"]
        for r in (
            await inspection.get(
                "/v1/self-supervision-reports", params={"within": COUNTY, "limit": 500}, headers=city
            )
        ).json()["items"]
    }
    theirs = await inspection.get("/v1/self-supervision-reports", params={"limit": 500}, headers=other_office)
    assert report_id not in {r["id"] for r in theirs.json()["items"]}
    assert_problem(
        await inspection.get(f"/v1/self-supervision-reports/{report_id}", headers=other_office), 404
    )
    assert (
        await inspection.get(f"/v1/self-supervision-reports/{report_id}", headers=inspector)
    ).status_code == 200

    per_school = f"/v1/schools/{school['id']}/self-supervision-reports"
    own = await inspection.get(per_school, headers=unit_of(token, school))
    assert [r["id"] for r in own.json()["items"]] == [report_id]
    assert (
        await inspection.get(f"/v1/self-supervision-reports/{report_id}", headers=unit_of(token, school))
    ).status_code == 200
    neighbour = unit_of(token, await register(inspection, office))
    assert_problem(await inspection.get(per_school, headers=neighbour), 403, "not-the-school")
    assert_problem(await inspection.get(f"/v1/self-supervision-reports/{report_id}", headers=neighbour), 404)
    assert_problem(await inspection.get(per_school, headers=other_office), 404, "school-not-found")
    assert_problem(await inspection.get("/v1/self-supervision-reports", headers=neighbour), 403)
    assert_problem(
        await inspection.get("/v1/self-supervision-reports", params={"semester": "2025"}, headers=office), 422
    )
