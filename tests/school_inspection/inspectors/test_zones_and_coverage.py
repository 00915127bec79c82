"""Inspection zones, the policy data behind every threshold, and coverage reports by division."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TokenFactory, bearer
from tests.school_inspection.inspectors.support import (
    Headers,
    appoint,
    assign,
    counts,
    day,
    problem_type,
    school,
    train,
)

ZONE_COUNTY, OTHER_COUNTY = "450421", "450405"  # 苍梧县, 长洲区
POLICY_COUNTY, COVERAGE_COUNTY = "450406", "450422"  # 龙圩区, 藤县: their policies change here
DEFAULTS = {
    "part_time_term_years": 3,
    "max_consecutive_terms": 3,
    "annual_training_hours": 40,
    "max_schools_per_inspector": 5,
    "dedicated_enrolment_threshold": 3000,
    "max_schools_per_zone": 20,
    "min_degree": "bachelor",
    "min_education_years": 10,
}


def office_of(token: TokenFactory, division: str) -> Headers:
    return bearer(token("supervision_office", division=division))


async def set_policy(
    client: httpx.AsyncClient, headers: Headers, division: str, **changes: Any
) -> httpx.Response:
    """Set a division's policy from the one in force there, with ``changes``."""
    current = await client.get("/v1/inspection-policy", params={"division": division}, headers=headers)
    own = current.json()["division_prefix"] == division
    body = {k: current.json()[k] for k in DEFAULTS} | changes
    etag = {"If-Match": current.headers["etag"]} if own else {}
    return await client.put(f"/v1/inspection-policies/{division}", json=body, headers={**headers, **etag})


async def new_zone(client: httpx.AsyncClient, headers: Headers, division: str, name: str) -> dict[str, Any]:
    response = await client.post("/v1/zones", json={"division_code": division, "name": name}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_zone_holds_at_most_twenty_schools(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = office_of(token, ZONE_COUNTY)
    zone = await new_zone(inspection, office, ZONE_COUNTY, "第一责任区")
    assert (zone["schools"], zone["max_schools"]) == (0, 20)
    schools = [await school(inspection, office, ZONE_COUNTY) for _ in range(21)]
    url = f"/v1/zones/{zone['id']}/schools"
    for s in schools[:20]:
        added = await inspection.post(url, json={"school_id": s["id"]}, headers=office)
        assert added.status_code == 200, added.text
    assert added.json()["schools"] == 20
    before = await counts(engine)
    full = await inspection.post(url, json={"school_id": schools[20]["id"]}, headers=office)
    assert (full.status_code, problem_type(full)) == (409, "zone-full")
    assert await counts(engine) == before

    members = await inspection.get(url, params={"limit": 15}, headers=office)
    rest = await inspection.get(url, params={"cursor": members.json()["next_cursor"]}, headers=office)
    listed = [s["id"] for s in members.json()["items"] + rest.json()["items"]]
    assert sorted(listed) == sorted(s["id"] for s in schools[:20])
    assert rest.json()["next_cursor"] is None

    removed = await inspection.delete(f"{url}/{schools[0]['id']}", headers=office)
    assert removed.status_code == 204
    again = await inspection.post(url, json={"school_id": schools[20]["id"]}, headers=office)
    assert again.status_code == 200
    gone = await inspection.delete(f"{url}/{schools[0]['id']}", headers=office)
    assert (gone.status_code, problem_type(gone)) == (404, "school-not-in-zone")


async def test_a_school_belongs_to_one_zone_of_its_own_county(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office, region = office_of(token, ZONE_COUNTY), office_of(token, "450000")
    first = await new_zone(inspection, office, ZONE_COUNTY, "第二责任区")
    second = await new_zone(inspection, office, ZONE_COUNTY, "第三责任区")
    target = await school(inspection, office, ZONE_COUNTY)
    elsewhere = await school(inspection, region, OTHER_COUNTY)
    assert (
        await inspection.post(
            f"/v1/zones/{first['id']}/schools", json={"school_id": target["id"]}, headers=office
        )
    ).status_code == 200
    before = await counts(engine)
    twice = await inspection.post(
        f"/v1/zones/{second['id']}/schools", json={"school_id": target["id"]}, headers=office
    )
    assert (twice.status_code, problem_type(twice)) == (409, "school-in-another-zone")
    foreign = await inspection.post(
        f"/v1/zones/{second['id']}/schools", json={"school_id": elsewhere["id"]}, headers=region
    )
    assert (foreign.status_code, problem_type(foreign)) == (409, "school-outside-zone-county")
    same_name = await inspection.post(
        "/v1/zones", json={"division_code": ZONE_COUNTY, "name": "第二责任区"}, headers=office
    )
    assert (same_name.status_code, problem_type(same_name)) == (409, "zone-name-taken")
    in_a_city = await inspection.post(
        "/v1/zones", json={"division_code": "450400", "name": "市区"}, headers=office
    )
    assert in_a_city.status_code == 422
    outside = await inspection.post(
        "/v1/zones", json={"division_code": OTHER_COUNTY, "name": "越界"}, headers=office
    )
    assert (outside.status_code, problem_type(outside)) == (403, "division-outside-jurisdiction")
    for body in ({"division_code": ZONE_COUNTY, "name": ""}, {"division_code": ZONE_COUNTY}, {"name": 5}):
        assert (await inspection.post("/v1/zones", json=body, headers=office)).status_code == 422
    assert await counts(engine) == before


async def test_another_countys_zones_answer_404(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office, other = office_of(token, ZONE_COUNTY), office_of(token, OTHER_COUNTY)
    zone = await new_zone(inspection, office, ZONE_COUNTY, "第四责任区")
    theirs = await school(inspection, other, OTHER_COUNTY)
    before = await counts(engine)
    url = f"/v1/zones/{zone['id']}"
    assert (await inspection.get(url, headers=other)).status_code == 404
    assert (await inspection.get(f"{url}/schools", headers=other)).status_code == 404
    added = await inspection.post(f"{url}/schools", json={"school_id": theirs["id"]}, headers=other)
    assert (added.status_code, problem_type(added)) == (404, "zone-not-found")
    assert await counts(engine) == before
    listed = await inspection.get("/v1/zones", params={"limit": 500}, headers=other)
    assert zone["id"] not in {z["id"] for z in listed.json()["items"]}


async def test_thresholds_are_policy_data_an_office_sets_for_its_jurisdiction(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = office_of(token, POLICY_COUNTY)
    effective = await inspection.get(
        "/v1/inspection-policy", params={"division": POLICY_COUNTY}, headers=office
    )
    assert effective.status_code == 200
    assert {k: effective.json()[k] for k in DEFAULTS} == DEFAULTS
    assert effective.json()["division_prefix"] == ""  # the seeded defaults, everywhere

    created = await set_policy(
        inspection, office, POLICY_COUNTY, max_schools_per_inspector=2, max_consecutive_terms=2
    )
    assert created.status_code == 201, created.text
    inspector = await appoint(inspection, office, POLICY_COUNTY)
    schools = [await school(inspection, office, POLICY_COUNTY) for _ in range(3)]
    for s in schools[:2]:
        assert (await assign(inspection, office, inspector["id"], s["id"])).status_code == 201
    third = await assign(inspection, office, inspector["id"], schools[2]["id"])
    assert (third.status_code, problem_type(third)) == (409, "inspector-over-load")
    assert "1:2" in third.json()["detail"]
    terms = f"/v1/inspectors/{inspector['id']}/terms"
    assert (await inspection.post(terms, json={}, headers=office)).status_code == 201
    third_term = await inspection.post(terms, json={}, headers=office)
    assert (third_term.status_code, problem_type(third_term)) == (409, "term-limit-reached")

    # The neighbouring county keeps the defaults.
    other = await inspection.get(
        "/v1/inspection-policy", params={"division": ZONE_COUNTY}, headers=office_of(token, "450400")
    )
    assert other.json()["max_schools_per_inspector"] == 5

    # Replacing needs the current ETag; another county may not touch it.
    before = await counts(engine)
    body = {**DEFAULTS, "max_schools_per_inspector": 3}
    url = f"/v1/inspection-policies/{POLICY_COUNTY}"
    assert (await inspection.put(url, json=body, headers=office)).status_code == 428
    stale = await inspection.put(url, json=body, headers={**office, "If-Match": effective.headers["etag"]})
    assert stale.status_code == 412
    foreign = await inspection.put(url, json=body, headers={**office_of(token, ZONE_COUNTY), "If-Match": "*"})
    assert (foreign.status_code, problem_type(foreign)) == (403, "division-outside-jurisdiction")
    hidden = await inspection.get(
        "/v1/inspection-policy", params={"division": POLICY_COUNTY}, headers=office_of(token, ZONE_COUNTY)
    )
    assert (hidden.status_code, problem_type(hidden)) == (404, "division-not-found")
    for bad in (
        {**body, "max_schools_per_inspector": 0},
        {**body, "annual_training_hours": False},
        {**body, "min_degree": "phd"},
        {"max_schools_per_inspector": 3},
    ):
        response = await inspection.put(url, json=bad, headers={**office, "If-Match": "*"})
        assert response.status_code == 422, response.text
    assert await counts(engine) == before
    listed = await inspection.get("/v1/inspection-policies", headers=office)
    assert [p["division_prefix"] for p in listed.json()["items"]] == [POLICY_COUNTY]


async def test_coverage_reports_the_gaps_of_a_division(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = office_of(token, COVERAGE_COUNTY)
    uncovered = [await school(inspection, office, COVERAGE_COUNTY) for _ in range(3)]
    covered = [await school(inspection, office, COVERAGE_COUNTY) for _ in range(3)]
    busy = await appoint(inspection, office, COVERAGE_COUNTY)
    for s in covered:
        assert (await assign(inspection, office, busy["id"], s["id"])).status_code == 201
    untrained = await appoint(inspection, office, COVERAGE_COUNTY, trained=False)
    diligent = await appoint(inspection, office, COVERAGE_COUNTY)
    for _ in range(2):
        await train(inspection, office, diligent["id"], kind="collective", hours=20)
    zone = await new_zone(inspection, office, COVERAGE_COUNTY, "覆盖责任区")
    for s in covered:
        await inspection.post(f"/v1/zones/{zone['id']}/schools", json={"school_id": s["id"]}, headers=office)
    # Lowered thresholds turn what was allowed into gaps.
    assert (
        await set_policy(
            inspection, office, COVERAGE_COUNTY, max_schools_per_inspector=2, max_schools_per_zone=2
        )
    ).status_code == 201

    response = await inspection.get(
        "/v1/coverage", params={"division": COVERAGE_COUNTY, "limit": 500}, headers=office
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["division"] == COVERAGE_COUNTY
    assert report["as_of"] == day(0)
    uncovered_ids = {s["id"] for s in report["uncovered_schools"]["items"]}
    assert {s["id"] for s in uncovered} <= uncovered_ids
    assert not {s["id"] for s in covered} & uncovered_ids
    assert report["schools"] - report["schools_covered"] == report["uncovered_schools"]["total"]

    overloaded = {i["id"]: i for i in report["overloaded_inspectors"]["items"]}
    assert (overloaded[busy["id"]]["schools"], overloaded[busy["id"]]["max_schools"]) == (3, 2)
    training = {i["id"]: i for i in report["untrained_inspectors"]["items"]}
    assert training[untrained["id"]]["pre_service"] is False
    assert (training[busy["id"]]["pre_service"], training[busy["id"]]["hours_this_year"]) == (True, 0)
    assert training[busy["id"]]["hours_required"] == 40
    assert diligent["id"] not in training  # 40 collective hours this year and pre-service training
    zones = {z["id"]: z for z in report["oversized_zones"]["items"]}
    assert (zones[zone["id"]]["schools"], zones[zone["id"]]["max_schools"]) == (3, 2)

    # Each section pages on by itself.
    page = await inspection.get(
        "/v1/coverage/uncovered-schools", params={"division": COVERAGE_COUNTY, "limit": 1}, headers=office
    )
    seen = [page.json()["items"][0]["id"]]
    while page.json()["next_cursor"]:
        page = await inspection.get(
            "/v1/coverage/uncovered-schools",
            params={"division": COVERAGE_COUNTY, "limit": 1, "cursor": page.json()["next_cursor"]},
            headers=office,
        )
        seen += [s["id"] for s in page.json()["items"]]
    assert set(seen) == uncovered_ids
    for section in ("overloaded-inspectors", "untrained-inspectors", "oversized-zones"):
        single = await inspection.get(
            f"/v1/coverage/{section}", params={"division": COVERAGE_COUNTY}, headers=office
        )
        assert single.status_code == 200
        assert single.json()["total"] == report[section.replace("-", "_")]["total"]

    # The city sees its county; a neighbouring county does not.
    city = await inspection.get(
        "/v1/coverage", params={"division": COVERAGE_COUNTY}, headers=office_of(token, "450400")
    )
    assert city.status_code == 200
    neighbour = await inspection.get(
        "/v1/coverage", params={"division": COVERAGE_COUNTY}, headers=office_of(token, OTHER_COUNTY)
    )
    assert (neighbour.status_code, problem_type(neighbour)) == (404, "division-not-found")
    for params in ({"division": "4504"}, {"division": "459999"}, {"division": COVERAGE_COUNTY, "limit": 0}):
        assert (await inspection.get("/v1/coverage", params=params, headers=office)).status_code == 422
    # A county's own report by default.
    own = await inspection.get("/v1/coverage", headers=office)
    assert own.json()["division"] == COVERAGE_COUNTY


async def test_a_city_report_covers_its_counties(inspection: httpx.AsyncClient, token: TokenFactory) -> None:
    city = office_of(token, "450400")
    county_school = await school(inspection, city, ZONE_COUNTY)
    report = (
        await inspection.get("/v1/coverage", params={"division": "450400", "limit": 500}, headers=city)
    ).json()
    assert county_school["id"] in {s["id"] for s in report["uncovered_schools"]["items"]}


@pytest.mark.parametrize("role", ["supervised_unit", "portal"])
async def test_coverage_is_for_offices_and_inspectors(
    inspection: httpx.AsyncClient, token: TokenFactory, role: str
) -> None:
    response = await inspection.get("/v1/coverage", headers=bearer(token(role, division=COVERAGE_COUNTY)))
    assert response.status_code == 403
