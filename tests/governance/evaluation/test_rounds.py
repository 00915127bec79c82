"""An annual round per level (二三): the region evaluates its departments and the cities, each city its
departments and its counties; a bad round is refused whole."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from governance.evaluation.models import DutyEvaluation, DutyEvaluationItem, EvaluationRound
from tests.conftest import TokenFactory, bearer
from tests.governance.evaluation.support import CITY, COUNTY, default_scheme, items_of, next_year
from tests.governance.unit.support import assert_problem, government_of, register_department

REGION = "450000"
# Refused rounds take no year of their own (each office has one round a year): none is ever opened for this.
REFUSED_YEAR = 2000


async def written(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        counts = [
            (await conn.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (EvaluationRound, DutyEvaluation, DutyEvaluationItem)
        ]
    return counts[0], counts[1], counts[2]


def round_body(
    scheme: dict[str, Any], unit_ids: list[str], *, office: str = CITY, year: int | None = None
) -> dict[str, Any]:
    return {
        "year": year or next_year(office),
        "title": "履行教育职责评价",
        "scheme_id": scheme["id"],
        "self_evaluation_due": (Clock().today() + timedelta(days=30)).isoformat(),
        "unit_ids": unit_ids,
    }


async def test_the_region_evaluates_its_departments_and_the_cities(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    region = bearer(token("supervision_office", division=REGION))
    city = await government_of(gov, region, CITY)
    department = await register_department(gov, region, REGION)
    scheme = await default_scheme(gov, region)
    before = await written(engine)

    opened = await gov.post(
        "/v1/evaluation-rounds",
        json=round_body(scheme, [city["id"], department["id"]], office=REGION),
        headers=region,
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers["Location"] == f"/v1/evaluation-rounds/{opened.json()['id']}"
    assert opened.json()["office_division"] == REGION
    items = len(items_of(scheme))
    assert await written(engine) == (before[0] + 1, before[1] + 2, before[2] + 2 * items)

    listed = await gov.get("/v1/duty-evaluations", params={"round_id": opened.json()["id"]}, headers=region)
    assert sorted((e["unit_kind"], e["division_code"]) for e in listed.json()["items"]) == [
        ("department", REGION),
        ("government", CITY),
    ]


@pytest.mark.parametrize(
    ("who", "unit", "status", "slug"),
    [
        (
            CITY,
            "county department",
            422,
            "invalid-evaluation-round",
        ),  # a county's department: its own office's
        (REGION, "county government", 422, "invalid-evaluation-round"),  # two levels below
        (CITY, "unknown", 422, "unknown-supervised-unit"),
        (COUNTY, "county department", 403, "not-an-evaluating-office"),
    ],
)
async def test_an_office_evaluates_only_one_level_below_and_its_own_departments(
    gov: httpx.AsyncClient,
    token: TokenFactory,
    engine: AsyncEngine,
    who: str,
    unit: str,
    status: int,
    slug: str,
) -> None:
    office = bearer(token("supervision_office", division=who))
    region = bearer(token("supervision_office", division=REGION))
    if unit == "county department":
        unit_id = (await register_department(gov, region, COUNTY))["id"]
    elif unit == "county government":
        unit_id = (await government_of(gov, region, COUNTY))["id"]
    else:
        unit_id = "00000000-0000-7000-8000-000000000000"
    before = await written(engine)
    response = await gov.post(
        "/v1/evaluation-rounds",
        json=round_body(await default_scheme(gov, office), [unit_id], year=REFUSED_YEAR),
        headers=office,
    )
    assert_problem(response, status, slug, "unit_ids.0" if status == 422 else None)
    assert await written(engine) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"year": "2026"}, "year"),
        ({"year": 3000}, "year"),
        ({"self_evaluation_due": "2001-01-01"}, "self_evaluation_due"),
        ({"self_evaluation_due": 20260101}, "self_evaluation_due"),
        ({"scheme_id": "00000000-0000-7000-8000-000000000000"}, "scheme_id"),
        ({"unit_ids": []}, "unit_ids"),
        ({"surplus": True}, "surplus"),
    ],
)
async def test_a_bad_round_names_its_field_and_writes_nothing(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, change: dict[str, Any], field: str
) -> None:
    office = bearer(token("supervision_office", division=CITY))
    government = await government_of(gov, office, COUNTY)
    before = await written(engine)
    body = {**round_body(await default_scheme(gov, office), [government["id"]], year=REFUSED_YEAR), **change}
    response = await gov.post("/v1/evaluation-rounds", json=body, headers=office)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await written(engine) == before


async def test_one_round_a_year_and_a_retried_post_opens_it_once(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=CITY))
    government = await government_of(gov, office, COUNTY)
    body = round_body(await default_scheme(gov, office), [government["id"]])
    key = {"Idempotency-Key": secrets.token_hex(8)}
    first = await gov.post("/v1/evaluation-rounds", json=body, headers={**office, **key})
    before = await written(engine)
    again = await gov.post("/v1/evaluation-rounds", json=body, headers={**office, **key})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert await written(engine) == before

    twice = await gov.post("/v1/evaluation-rounds", json=body, headers=office)
    assert_problem(twice, 409, "evaluation-round-year-taken")
    assert await written(engine) == before


async def test_rounds_page_by_cursor_and_sync_by_change_time(
    gov: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division="450300"))  # 桂林市, a city of its own here
    government = await government_of(gov, office, "450302")
    scheme = await default_scheme(gov, office)
    ids = []
    for _ in range(3):
        opened = await gov.post(
            "/v1/evaluation-rounds",
            json=round_body(scheme, [government["id"]], office="450300"),
            headers=office,
        )
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["id"])
    first = (await gov.get("/v1/evaluation-rounds", params={"limit": 2}, headers=office)).json()
    assert [r["id"] for r in first["items"]] == ids[:2]
    rest = await gov.get(
        "/v1/evaluation-rounds", params={"limit": 2, "cursor": first["next_cursor"]}, headers=office
    )
    assert [r["id"] for r in rest.json()["items"]] == ids[2:]
    assert rest.json()["next_cursor"] is None

    since = (await gov.get(f"/v1/evaluation-rounds/{ids[1]}", headers=office)).json()["updated_at"]
    synced = await gov.get("/v1/evaluation-rounds", params={"updated_since": since}, headers=office)
    assert [r["id"] for r in synced.json()["items"]] == ids[1:]
    evaluations = await gov.get("/v1/duty-evaluations", params={"updated_since": since}, headers=office)
    assert len(evaluations.json()["items"]) == 2
