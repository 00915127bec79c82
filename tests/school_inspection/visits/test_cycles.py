"""Comprehensive supervision cycles (综合督导): every school once in five years, planned and tracked."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.cycle.service import spread
from tests.conftest import TokenFactory, bearer
from tests.school_inspection.visits.support import (
    Headers,
    assert_problem,
    at,
    counts,
    iso,
    new_inspector,
    register_school,
    visit,
)

COUNTY, EMPTY_COUNTY, OTHER_COUNTY = "450603", "450621", "450503"  # 防城区, 上思县, 银海区


@pytest.mark.parametrize("n", [1, 4, 5, 7, 12, 23, 101])
def test_schools_are_spread_over_the_years_as_evenly_as_possible_in_the_given_order(n: int) -> None:
    ids = [UUID(int=i) for i in range(n)]
    planned = spread(ids, 2026, 5)
    assert [school for school, _ in planned] == ids
    years = [year for _, year in planned]
    assert years == sorted(years)
    assert set(years) <= set(range(2026, 2031))
    loads = Counter(years)
    per_year = [loads.get(y, 0) for y in range(2026, 2031)]
    assert max(per_year) - min(per_year) <= 1


@pytest.fixture(scope="module")
async def office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=COUNTY))


async def comprehensive(
    client: httpx.AsyncClient, office: Headers, school_id: str, team: list[str], day: date | None
) -> None:
    ended = at(day, 12) if day else clock.now() - timedelta(minutes=1)
    body = visit(
        school_id,
        team,
        kind="special",
        comprehensive=True,
        items=[],
        started_at=iso(ended - timedelta(hours=3)),
        ended_at=iso(ended),
    )
    response = await client.post("/v1/visits", json=body, headers=office)
    assert response.status_code == 201, response.text


async def test_a_cycle_plans_every_school_once_and_tracks_coverage_year_by_year(
    inspection: httpx.AsyncClient, office: Headers, token: TokenFactory, inspection_engine: AsyncEngine
) -> None:
    schools = [await register_school(inspection, office, COUNTY) for _ in range(12)]
    team = [await new_inspector(inspection, office, COUNTY) for _ in range(3)]
    this_year = clock.today().year
    start = this_year - 2
    planned = await inspection.post(
        "/v1/cycles", json={"division_code": COUNTY, "start_year": start}, headers=office
    )
    assert planned.status_code == 201, planned.text
    cycle = planned.json()
    assert (cycle["years"], cycle["end_year"]) == (5, start + 4)
    assert [p["planned"] for p in cycle["plan"]] == [3, 2, 3, 2, 2]  # school i of 12 → year ⌊5i/12⌋

    s = sorted(schools, key=lambda school: school["school_code"])
    year = {n: start + n * 5 // 12 for n in range(12)}
    await comprehensive(inspection, office, s[0]["id"], team, date(year[0], 6, 15))  # in its year
    await inspection.post(  # a routine visit is not a comprehensive supervision
        "/v1/visits",
        json=visit(
            s[1]["id"],
            team[:1],
            started_at=iso(at(date(year[1], 5, 1))),
            ended_at=iso(at(date(year[1], 5, 1), 12)),
        ),
        headers=office,
    )
    await comprehensive(inspection, office, s[2]["id"], team, date(year[2] + 1, 3, 1))  # a year late
    await comprehensive(inspection, office, s[3]["id"], team, date(year[3], 10, 8))
    await comprehensive(inspection, office, s[4]["id"], team, date(year[4] - 1, 11, 20))  # a year early
    await comprehensive(inspection, office, s[5]["id"], team, None)  # this year, its year
    await comprehensive(inspection, office, s[8]["id"], team, None)  # this year, before its year
    unplanned = await register_school(inspection, office, COUNTY)

    coverage = await inspection.get(f"/v1/cycles/{cycle['id']}/coverage", headers=office)
    assert coverage.status_code == 200, coverage.text
    report = coverage.json()
    statuses = {row["school_id"]: row["status"] for y in report["years"] for row in y["schools"]}
    assert [statuses[school["id"]] for school in s] == [
        "covered",
        "late",
        "covered_late",
        "covered",
        "covered_early",
        "covered",
        "due",
        "due",
        "covered_early",
        "upcoming",
        "upcoming",
        "upcoming",
    ]
    assert report["counts"] == {
        "covered": 3,
        "covered_early": 2,
        "covered_late": 1,
        "late": 1,
        "due": 2,
        "upcoming": 3,
    }
    first_year = report["years"][0]
    assert (first_year["year"], first_year["planned"]) == (start, 3)
    assert [row["school_code"] for row in first_year["schools"]] == [x["school_code"] for x in s[:3]]
    assert first_year["schools"][0]["visited_on"] == date(year[0], 6, 15).isoformat()
    assert report["unplanned_school_ids"] == [unplanned["id"]]

    outsider = bearer(token("inspector", division=OTHER_COUNTY))
    assert_problem(
        await inspection.get(f"/v1/cycles/{cycle['id']}", headers=outsider), 404, "cycle-not-found"
    )
    assert_problem(await inspection.get(f"/v1/cycles/{cycle['id']}/coverage", headers=outsider), 404)
    listed = await inspection.get("/v1/cycles", params={"limit": 500}, headers=outsider)
    assert cycle["id"] not in {c["id"] for c in listed.json()["items"]}
    assert (await inspection.get(f"/v1/cycles/{cycle['id']}", headers=office)).json()["plan"] == cycle["plan"]

    before = await counts(inspection_engine)
    overlapping = await inspection.post(
        "/v1/cycles", json={"division_code": COUNTY, "start_year": start + 4}, headers=office
    )
    assert_problem(overlapping, 409, "cycle-overlaps")
    assert await counts(inspection_engine) == before
    following = await inspection.post(
        "/v1/cycles", json={"division_code": COUNTY, "start_year": start + 5}, headers=office
    )
    assert following.status_code == 201
    assert sum(p["planned"] for p in following.json()["plan"]) == 13


@pytest.mark.parametrize(
    ("division", "body", "status", "type_slug"),
    [
        (EMPTY_COUNTY, {"division_code": EMPTY_COUNTY, "start_year": 2026}, 409, "no-schools-to-plan"),
        ("450600", {"division_code": "450600", "start_year": 2026}, 422, "invalid-division-code"),  # a city
        (COUNTY, {"division_code": EMPTY_COUNTY, "start_year": 2026}, 403, "division-outside-jurisdiction"),
        (COUNTY, {"division_code": COUNTY, "start_year": 1999}, 422, "validation-error"),
        (COUNTY, {"division_code": COUNTY, "start_year": "2026"}, 422, "validation-error"),
        (COUNTY, {"division_code": COUNTY}, 422, "validation-error"),
    ],
)
async def test_bad_plans_get_a_problem_and_write_nothing(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    inspection_engine: AsyncEngine,
    division: str,
    body: dict[str, Any],
    status: int,
    type_slug: str,
) -> None:
    office = bearer(token("supervision_office", division=division))
    before = await counts(inspection_engine)
    assert_problem(await inspection.post("/v1/cycles", json=body, headers=office), status, type_slug)
    assert await counts(inspection_engine) == before
