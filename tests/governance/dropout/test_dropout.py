"""Dropout control: the county's register sealed at rest, shown in full only to its keeper, every read
audited; rates against targets; a county behind target raises one finding per year."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.db import kit
from governance.dropout.models import DropoutPupil
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import assert_problem, government_of

CITY, COUNTY, OTHER_COUNTY, ELSEWHERE = "450100", "450105", "450108", "450200"


def id_number() -> str:
    return "450105" + "2014" + "".join(secrets.choice("0123456789") for _ in range(8))


def a_year() -> int:
    """A year of this test's own: targets and assessments are per county and year."""
    return 2030 + secrets.randbelow(70)


def pupil(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "韦小明",
        "id_number": id_number(),
        "school_name": "江南区第一初级中学",
        "grade": 8,
        "reason": "learning_difficulty",
        "status": "dropped_out",
        "left_on": "2026-01-05",
        **overrides,
    }


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_the_keeper_sees_the_pupil_in_full_others_masked_and_it_is_sealed_at_rest(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    county = bearer(token("supervision_office", division=COUNTY))
    city = bearer(token("supervision_office", division=CITY))
    other = bearer(token("supervision_office", division=OTHER_COUNTY))
    body = pupil()
    created = await governance.post("/v1/dropout/pupils", json=body, headers=county)
    assert created.status_code == 201, created.text
    pupil_id = created.json()["id"]
    assert created.headers["Location"] == f"/v1/dropout/pupils/{pupil_id}"
    assert created.json()["name"] == "韦小明"
    assert created.json()["id_number"] == body["id_number"]

    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(DropoutPupil.__table__).where(DropoutPupil.id == pupil_id)))
            .mappings()
            .one()
        )
    stored = " ".join(str(v) for v in row.values())
    assert body["id_number"] not in stored
    assert "韦小明" not in stored

    seen = await governance.get(f"/v1/dropout/pupils/{pupil_id}", headers=city)
    assert seen.status_code == 200, seen.text
    assert seen.json()["masked"] is True
    assert seen.json()["name"] == "韦**"
    assert seen.json()["id_number"] == body["id_number"][:4] + "*" * 10 + body["id_number"][-4:]
    assert (await governance.get(f"/v1/dropout/pupils/{pupil_id}", headers=other)).status_code == 404

    found = await governance.post(
        "/v1/dropout/pupils/lookup", json={"id_number": body["id_number"]}, headers=county
    )
    assert [p["id"] for p in found.json()["items"]] == [pupil_id]
    assert found.json()["items"][0]["masked"] is False
    assert (
        await governance.post(
            "/v1/dropout/pupils/lookup", json={"id_number": body["id_number"]}, headers=other
        )
    ).json()["items"] == []

    async with engine.connect() as conn:
        reads = (
            (
                await conn.execute(
                    select(kit.audit_log.c.details).where(
                        kit.audit_log.c.action == "dropout_pupil.read", kit.audit_log.c.record_id == pupil_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted((r["via"], r["masked"]) for r in reads) == [("detail", True), ("lookup", False)]


async def test_measures_returns_and_if_match(governance: httpx.AsyncClient, token: TokenFactory) -> None:
    county = bearer(token("supervision_office", division=COUNTY))
    city = bearer(token("supervision_office", division=CITY))
    created = await governance.post("/v1/dropout/pupils", json=pupil(), headers=county)
    pupil_id, tag = created.json()["id"], created.headers["ETag"]

    measure = {"kind": "home_visit", "description": "班主任和村干部家访劝返", "taken_on": "2026-01-10"}
    assert (
        await governance.post(f"/v1/dropout/pupils/{pupil_id}/measures", json=measure, headers=city)
    ).status_code == 403
    taken = await governance.post(f"/v1/dropout/pupils/{pupil_id}/measures", json=measure, headers=county)
    assert taken.status_code == 201, taken.text

    back = {"returned_on": "2026-01-20", "school_name": "江南区第一初级中学"}
    stale = await governance.post(
        f"/v1/dropout/pupils/{pupil_id}/return", json=back, headers={**county, "If-Match": tag}
    )
    assert stale.status_code == 412
    assert (
        await governance.post(f"/v1/dropout/pupils/{pupil_id}/return", json=back, headers=county)
    ).status_code == 428
    returned = await governance.post(
        f"/v1/dropout/pupils/{pupil_id}/return",
        json=back,
        headers={**county, "If-Match": taken.headers["ETag"]},
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    detail = (await governance.get(f"/v1/dropout/pupils/{pupil_id}", headers=county)).json()
    assert [m["kind"] for m in detail["measures"]] == ["home_visit"]

    synced = await governance.get(
        "/v1/dropout/pupils",
        params={"updated_since": returned.json()["updated_at"], "limit": 500},
        headers=county,
    )
    assert pupil_id in [p["id"] for p in synced.json()["items"]]


async def test_bad_input_names_the_field_and_writes_nothing(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    county = bearer(token("supervision_office", division=COUNTY))
    city = bearer(token("supervision_office", division=CITY))
    before = await count(engine, DropoutPupil.__table__)
    cases = [
        (pupil(id_number="12345"), county, 422, "validation-error", "id_number"),
        (pupil(grade=10), county, 422, "validation-error", "grade"),
        (pupil(left_on=None), county, 422, "invalid-dropout-record", "left_on"),
        (pupil(status="returned"), county, 422, "invalid-dropout-record", "status"),
        (pupil(left_on="2999-01-01"), county, 422, "invalid-dropout-record", "left_on"),
        (pupil(), city, 403, "not-the-register-keeper", None),
    ]
    for body, headers, status, slug, field in cases:
        assert_problem(
            await governance.post("/v1/dropout/pupils", json=body, headers=headers), status, slug, field
        )
    twice = pupil()
    assert (await governance.post("/v1/dropout/pupils", json=twice, headers=county)).status_code == 201
    again = await governance.post("/v1/dropout/pupils", json={**twice, "name": "别名"}, headers=county)
    assert_problem(again, 409, "dropout-pupil-registered")
    assert await count(engine, DropoutPupil.__table__) == before + 1


async def test_a_county_behind_target_gets_one_finding_at_its_government(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    county = bearer(token("supervision_office", division=COUNTY))
    city = bearer(token("supervision_office", division=CITY))
    elsewhere = bearer(token("supervision_office", division=ELSEWHERE))
    year = a_year()
    government = await government_of(governance, city, COUNTY)
    for division, target in ((COUNTY, 0.0), (OTHER_COUNTY, 1000.0)):
        created = await governance.post(
            "/v1/dropout/targets",
            json={
                "division_code": division,
                "year": year,
                "enrolled_pupils": 20_000,
                "target_permille": target,
            },
            headers=city,
        )
        assert created.status_code == 201, created.text
    assert_problem(
        await governance.post(
            "/v1/dropout/targets",
            json={"division_code": COUNTY, "year": year, "enrolled_pupils": 1},
            headers=city,
        ),
        409,
        "dropout-target-exists",
    )
    await governance.post("/v1/dropout/pupils", json=pupil(), headers=county)

    rates = (await governance.get("/v1/dropout/rates", params={"year": year}, headers=city)).json()["items"]
    ours = next(r for r in rates if r["division_code"] == COUNTY)
    assert ours["dropped_out"] >= 1
    assert ours["behind"] is True
    assert (await governance.get("/v1/dropout/rates", params={"year": year}, headers=elsewhere)).json()[
        "items"
    ] == []

    assert_problem(
        await governance.post("/v1/dropout/assessments", json={"year": year}, headers=county),
        403,
        "not-above-the-county",
    )
    run = await governance.post("/v1/dropout/assessments", json={"year": year}, headers=city)
    assert run.status_code == 200, run.text
    assessed = {a["division_code"]: a for a in run.json()["assessed"]}
    assert assessed[OTHER_COUNTY]["behind"] is False
    assert assessed[OTHER_COUNTY]["rectification_id"] is None
    rectification_id = assessed[COUNTY]["rectification_id"]
    finding = (await governance.get(f"/v1/rectifications/{rectification_id}", headers=city)).json()
    assert finding["finding"]["unit_id"] == government["id"]
    assert finding["finding"]["category"] == "dropout_control"

    again = await governance.post("/v1/dropout/assessments", json={"year": year}, headers=city)
    assert again.json()["assessed"] == []
    assert sorted(again.json()["already_assessed"]) == [COUNTY, OTHER_COUNTY]
    listed = await governance.get("/v1/dropout/assessments", params={"year": year}, headers=city)
    assert len(listed.json()["items"]) == 2
