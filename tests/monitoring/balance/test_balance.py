"""Balanced development over HTTP: a county's verdict with every figure behind it, findings at the county
government once per criterion, what-ifs that write nothing, jurisdiction, and bad input refused whole."""

from __future__ import annotations

import math
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.rectification.models import Finding
from monitoring.db import kit
from tests.conftest import TokenFactory, bearer
from tests.monitoring.balance.conftest import BASES, YEAR, Counts, Seed, at_standard, county_items

RONGXIAN, LUCHUAN, BOBAI = "450921", "450922", "450923"  # 容县, 陆川县, 博白县 (玉林市)
HEZHOU = "451100"


def office(token: TokenFactory, division: str) -> dict[str, str]:
    return bearer(token("supervision_office", division=division))


def nine_year(primary: int, junior: int) -> dict[str, Decimal]:
    """A nine-year school's values putting both stages 30% above their standards, split 1 : 1.1."""
    weighted = primary + 1.1 * junior
    found = {
        code: Decimal(str(round(1.3 * max(p * weighted / factor, j * weighted / (1.1 * factor)), 4)))
        for code, factor, p, j in BASES
    }
    return {"pupils_primary": Decimal(primary), "pupils_junior": Decimal(junior), **found}


async def evaluate(client: httpx.AsyncClient, headers: dict[str, str], division: str) -> httpx.Response:
    return await client.post(
        "/v1/balance/evaluations", json={"year": YEAR, "division_code": division}, headers=headers
    )


async def test_a_county_verdict_shows_every_figure_and_fails_into_findings_once(
    monitoring: httpx.AsyncClient,
    token: TokenFactory,
    seed: Seed,
    counts: Counts,
    monitoring_engine: AsyncEngine,
) -> None:
    poor_equipment = {**at_standard(600), "equipment_value": Decimal(600 * 2000 * 0.8)}
    await seed(
        RONGXIAN,
        [
            ({"name": "甲小学"}, at_standard(400, 1.2)),
            ({"name": "乙小学"}, poor_equipment),
            ({"name": "丙九年一贯制学校", "school_type": "nine_year"}, nine_year(500, 500)),
            (
                {"name": "丁特殊教育学校", "school_type": "special_education"},
                {"pupils_primary": Decimal(200)},
            ),
            ({"name": "戊教学点", "teaching_point": True}, at_standard(30, 0.1)),
        ],
        county_items(guarantee__2_7=0),
    )
    headers = office(token, RONGXIAN)
    before = await counts()

    response = await evaluate(monitoring, headers, RONGXIAN)
    assert response.status_code == 200, response.text
    body = response.json()
    [summary] = body["verdicts"]
    assert summary["division_code"] == RONGXIAN
    assert summary["status"] == "not_met"
    assert sorted(summary["failed"]) == ["guarantee.2_7", "schools.primary"]
    assert body["findings_raised"] == 2
    after = await counts()
    assert after["verdicts"] == before["verdicts"] + 1
    assert after["rectifications"] == before["rectifications"] + 2

    read = await monitoring.get(f"/v1/balance/verdicts/{summary['id']}", headers=headers)
    assert read.status_code == 200, read.text
    assert read.headers["etag"]
    figures = read.json()["figures"]
    schools = {s["name"]: s for s in figures["schools"]}
    assert schools["丁特殊教育学校"]["excluded"] == "special-education school"
    assert schools["戊教学点"]["excluded"] == "teaching point with fewer than 50 pupils"
    assert [s["stage"] for s in schools["丙九年一贯制学校"]["stages"]] == ["primary", "junior"]
    [poor] = schools["乙小学"]["stages"]
    assert poor["status"] == "not_met"
    assert poor["indicators_met"] == 6
    assert poor["ratios"][5] == pytest.approx(0.8)
    assert schools["甲小学"]["stages"][0]["values"][0] == pytest.approx(4.2 * 1.2)
    assert figures["resources"][0]["standards"] == {"primary": 4.2, "junior": 5.3}

    # Each indicator's CV per stage, weighted by pupils, against its stage's limit.
    spread = {(d["stage"], d["resource"]): d for d in figures["dispersion"]}
    assert len(spread) == 14
    judged = [
        (st["pupils"], st["values"][0])
        for s in figures["schools"]
        for st in s["stages"]
        if st["stage"] == "primary"
    ]
    total = sum(p for p, _ in judged)
    mean = sum(p * x for p, x in judged) / total
    cv = math.sqrt(sum(p / total * (x - mean) ** 2 for p, x in judged)) / mean
    first = spread["primary", "resource.1"]
    assert (first["schools"], first["pupils"], first["limit"]) == (3, 1500, 0.5)
    assert first["cv"] == pytest.approx(cv)
    assert spread["junior", "resource.1"]["limit"] == 0.45
    criteria = {c["code"]: c for c in figures["criteria"]}
    assert criteria["guarantee.2_7"]["status"] == "not_met"
    assert criteria["recognition.4_1"]["status"] == "met"
    assert criteria["cv.primary.resource.6"]["status"] == "met"

    # The findings are the county government's, in monitoring's rectification loop.
    async with monitoring_engine.connect() as conn:
        found = (await conn.execute(select(Finding).where(Finding.unit_id == f"gov-{RONGXIAN}"))).all()
    assert {(f.unit_name, f.unit_kind.value, f.origin_kind.value) for f in found} == {
        ("容县人民政府", "government", "evaluation")
    }
    assert sorted(f.origin_ref for f in found) == [
        f"balance:{YEAR}:guarantee.2_7",
        f"balance:{YEAR}:schools.primary",
    ]

    # Evaluated again: the same verdict's next version, announced again, and no second finding.
    again = await evaluate(monitoring, headers, RONGXIAN)
    assert again.status_code == 200, again.text
    [second] = again.json()["verdicts"]
    assert (second["id"], second["version"]) == (summary["id"], 2)
    assert again.json()["findings_raised"] == 0
    final = await counts()
    assert (final["verdicts"], final["rectifications"]) == (after["verdicts"], after["rectifications"])
    async with monitoring_engine.connect() as conn:
        given = (
            (
                await conn.execute(
                    select(kit.outbox.c.envelope).where(
                        kit.outbox.c.envelope["type"].astext == "dudao.monitoring.balance_verdict.given.v1",
                        kit.outbox.c.envelope["data"]["verdict_id"].astext == summary["id"],
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(e["data"]["version"] for e in given) == [1, 2]
    assert {e["division"] for e in given} == {RONGXIAN}


async def test_a_what_if_shows_the_verdict_it_would_give_and_writes_nothing(
    monitoring: httpx.AsyncClient, token: TokenFactory, seed: Seed, counts: Counts
) -> None:
    rows = await seed(
        LUCHUAN,
        [
            ({"name": "陆川甲小学"}, at_standard(500, 1.1)),
            (
                {"name": "陆川乙中学", "school_type": "junior"},
                {**at_standard(800, 1.1, "junior"), "key_teachers": Decimal(5)},
            ),
        ],
        county_items(),
    )
    junior = str(rows[1]["school_id"])
    headers = office(token, LUCHUAN)
    before = await counts()
    url = f"/v1/balance/counties/{LUCHUAN}/what-if"
    as_is = await monitoring.post(url, json={"year": YEAR, "changes": []}, headers=headers)
    assert as_is.status_code == 200, as_is.text
    assert as_is.json()["failed"] == ["schools.junior"]  # 5 key teachers for 800 pupils: 0.625 per 100

    changes = [
        {"unit_kind": "school", "unit_id": junior, "element_code": "key_teachers", "value": 9},
        {"unit_kind": "county", "unit_id": LUCHUAN, "element_code": "recognition.4_1", "value": 0.8},
    ]
    response = await monitoring.post(url, json={"year": YEAR, "changes": changes}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "not_met"
    assert body["failed"] == ["recognition.4_1"]  # the junior school now meets 6 of 7, the 7th at 112.5%
    [stage] = next(s for s in body["figures"]["schools"] if s["school_id"] == junior)["stages"]
    assert stage["values"][1] == pytest.approx(9 / 800 * 100)
    assert await counts() == before

    bad = [
        (
            {"unit_kind": "school", "unit_id": "no-such-school", "element_code": "key_teachers", "value": 1},
            "unit_id",
        ),
        (
            {"unit_kind": "school", "unit_id": junior, "element_code": "resource.2", "value": 1},
            "element_code",
        ),
        (
            {"unit_kind": "school", "unit_id": junior, "element_code": "guarantee.2_1", "value": 1},
            "element_code",
        ),
        ({"unit_kind": "county", "unit_id": BOBAI, "element_code": "guarantee.2_1", "value": 1}, "unit_id"),
        ({"unit_kind": "county", "unit_id": LUCHUAN, "element_code": "guarantee.2_1", "value": 2}, "value"),
        ({"unit_kind": "school", "unit_id": junior, "element_code": "key_teachers", "value": True}, "value"),
    ]
    for change, field in bad:
        refused = await monitoring.post(url, json={"year": YEAR, "changes": [change]}, headers=headers)
        assert refused.status_code == 422, (change, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [f"changes.0.{field}"], refused.text
    assert await counts() == before


async def test_jurisdiction_and_bad_input_write_nothing(
    monitoring: httpx.AsyncClient, token: TokenFactory, seed: Seed, counts: Counts
) -> None:
    await seed(BOBAI, [({"name": "博白甲小学"}, at_standard(300, 1.1))], county_items())
    mine = office(token, BOBAI)
    given = await evaluate(monitoring, mine, BOBAI)
    assert given.status_code == 200, given.text
    verdict_id = given.json()["verdicts"][0]["id"]
    assert given.json()["verdicts"][0]["status"] == "met"
    before = await counts()

    other = office(token, "450102")  # 南宁市兴宁区
    assert (await evaluate(monitoring, other, BOBAI)).status_code == 403
    assert (await monitoring.get(f"/v1/balance/verdicts/{verdict_id}", headers=other)).status_code == 404
    listed = await monitoring.get("/v1/balance/verdicts", params={"year": YEAR}, headers=other)
    assert verdict_id not in {v["id"] for v in listed.json()["items"]}
    what_if = await monitoring.post(
        f"/v1/balance/counties/{BOBAI}/what-if", json={"year": YEAR, "changes": []}, headers=other
    )
    assert what_if.status_code == 403
    school = bearer(token("supervised_unit", division=BOBAI, org="x"))
    assert (await evaluate(monitoring, school, BOBAI)).status_code == 403

    for body, status in [
        ({"year": 1999, "division_code": BOBAI}, 422),
        ({"year": YEAR, "division_code": "45"}, 422),
        ({"year": "2025", "division_code": BOBAI}, 422),
        ({"year": YEAR, "division_code": "459999"}, 422),
        ({"year": YEAR, "division_code": BOBAI, "system_key": "no-such-system"}, 404),
        ({"year": YEAR, "division_code": BOBAI, "extra": 1}, 422),
    ]:
        refused = await monitoring.post("/v1/balance/evaluations", json=body, headers=mine)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    not_a_county = await monitoring.post(
        "/v1/balance/counties/450900/what-if",
        json={"year": YEAR, "changes": []},
        headers=office(token, "450900"),
    )
    assert not_a_county.status_code == 422, not_a_county.text
    assert await counts() == before

    # The county's own office lists it, and syncs it by change.
    page = await monitoring.get("/v1/balance/verdicts", params={"year": YEAR, "status": "met"}, headers=mine)
    assert [v["id"] for v in page.json()["items"]] == [verdict_id]
    since = given.json()["verdicts"][0]["updated_at"]
    synced = await monitoring.get("/v1/balance/verdicts", params={"updated_since": since}, headers=mine)
    assert [v["id"] for v in synced.json()["items"]] == [verdict_id]


async def test_a_city_evaluates_each_of_its_counties(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    response = await evaluate(monitoring, office(token, HEZHOU), HEZHOU)
    assert response.status_code == 200, response.text
    verdicts = response.json()["verdicts"]
    assert {v["division_code"] for v in verdicts} == {"451102", "451103", "451121", "451122", "451123"}
    # No school and no data yet: missing, never met, and no finding for what is not known.
    assert {v["status"] for v in verdicts} == {"missing"}
    assert response.json()["findings_raised"] == 0
