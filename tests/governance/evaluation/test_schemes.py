"""Evaluation schemes are versioned data: a new edition never changes a round run on an older one."""

from __future__ import annotations

import copy
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.evaluation.models import EvaluationScheme
from tests.conftest import TokenFactory, bearer
from tests.governance.evaluation.support import CITY, COUNTY, default_scheme, items_of, open_evaluation
from tests.governance.unit.support import assert_problem


def scheme_body(key: str, base: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "name": "南宁市履行教育职责评价方案",
        "areas": base["areas"],
        "grade_bands": base["grade_bands"],
    }


async def schemes(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(EvaluationScheme))).scalar_one())


async def test_the_default_scheme_covers_the_content_areas_of_the_opinions(
    gov: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))  # a county office reads the region's
    scheme = await default_scheme(gov, office)
    assert scheme["office_division"] == "450000"
    assert scheme["max_score"] == 100
    assert [a["name"] for a in scheme["areas"]][:3] == [
        "执行教育法律法规和落实重大教育决策部署",
        "制定和实施教育发展规划",
        "协调各级各类教育发展",
    ]
    assert len(scheme["areas"]) == 12
    assert sum(a["weight"] for a in scheme["areas"]) == 100
    assert [i["kind"] for i in items_of(scheme)].count("annual_target") == 1
    assert [(b["grade"], b["min_score"]) for b in scheme["grade_bands"]] == [
        ("excellent", 90),
        ("good", 80),
        ("pass", 60),
    ]


async def test_a_new_edition_leaves_the_rounds_on_the_old_one(
    gov: httpx.AsyncClient, token: TokenFactory
) -> None:
    e = await open_evaluation(gov, token)
    office = e.office
    key = f"nanning-{secrets.token_hex(3)}"
    first = await gov.post("/v1/evaluation-schemes", json=scheme_body(key, e.scheme), headers=office)
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"/v1/evaluation-schemes/{first.json()['id']}"
    assert (first.json()["edition"], first.json()["office_division"]) == (1, CITY)

    revised = copy.deepcopy(e.scheme)
    revised["areas"][0]["weight"] = 20  # the total becomes 110
    revised["grade_bands"][0]["min_score"] = 100
    second = await gov.post("/v1/evaluation-schemes", json=scheme_body(key, revised), headers=office)
    assert second.status_code == 201, second.text
    assert (second.json()["edition"], second.json()["max_score"]) == (2, 110)

    # The round opened on the default scheme still reads that edition.
    round_now = await gov.get(f"/v1/evaluation-rounds/{e.round['id']}", headers=office)
    assert round_now.json()["scheme_id"] == e.scheme["id"]
    editions = await gov.get("/v1/evaluation-schemes", params={"key": key}, headers=office)
    assert [s["edition"] for s in editions.json()["items"]] == [1, 2]

    # Another city cannot revise the city's scheme, nor see it; the city's counties may use it.
    other_city = bearer(token("supervision_office", division="450200"))
    refused = await gov.post("/v1/evaluation-schemes", json=scheme_body(key, e.scheme), headers=other_city)
    assert_problem(refused, 403, "not-the-scheme-owner")
    hidden = await gov.get(f"/v1/evaluation-schemes/{first.json()['id']}", headers=other_city)
    assert_problem(hidden, 404, "evaluation-scheme-not-found")
    county = bearer(token("supervision_office", division=COUNTY))
    assert (await gov.get(f"/v1/evaluation-schemes/{first.json()['id']}", headers=county)).status_code == 200


def _broken(base: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    body = scheme_body(f"broken-{secrets.token_hex(3)}", copy.deepcopy(base))
    if path == "per_issue":
        body["areas"][0]["items"][1]["scoring"]["per_issue"] = None
        return body, "areas.0.items.1.scoring.per_issue"
    if path == "duplicate":
        body["areas"][1]["items"][0]["code"] = body["areas"][0]["items"][0]["code"]
        return body, "areas.1.items.0.code"
    if path == "bands":
        body["grade_bands"][1]["min_score"] = 95
        return body, "grade_bands"
    if path == "step":
        body["areas"][0]["items"][0]["scoring"]["step"] = 3
        return body, "areas.0.items.0.scoring.step"
    body["areas"][0]["weight"] = "10"  # a string is not a number
    return body, "areas.0.weight"


@pytest.mark.parametrize("broken", ["per_issue", "duplicate", "bands", "step", "string"])
async def test_a_scheme_that_does_not_add_up_is_refused_and_nothing_is_written(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, broken: str
) -> None:
    office = bearer(token("supervision_office", division=CITY))
    body, field = _broken(await default_scheme(gov, office), broken)
    before = await schemes(engine)
    response = await gov.post("/v1/evaluation-schemes", json=body, headers=office)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await schemes(engine) == before


async def test_only_an_office_records_schemes(gov: httpx.AsyncClient, token: TokenFactory) -> None:
    office = bearer(token("supervision_office", division=CITY))
    body = scheme_body("unit-made", await default_scheme(gov, office))
    unit = bearer(token("supervised_unit", division=CITY, org="x"))
    assert (await gov.post("/v1/evaluation-schemes", json=body, headers=unit)).status_code == 403
    assert (await gov.post("/v1/evaluation-schemes", json=body)).status_code == 401
