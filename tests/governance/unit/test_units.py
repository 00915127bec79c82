"""The registry of supervised units that are not schools: governments and departments, within jurisdiction;
findings address a registered unit, and a unit's own principal sees that unit and its rectifications."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.db import kit
from governance.unit.models import SupervisedUnitRecord
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import assert_problem, government_of, register_department

COUNTY, OTHER_COUNTY, CITY = "450107", "450109", "450100"  # 西乡塘区, 邕宁区, 南宁市


async def rows(engine: AsyncEngine) -> tuple[int, int]:
    """Units and audit entries: a refused request changes neither."""
    async with engine.connect() as conn:
        units = (await conn.execute(select(func.count()).select_from(SupervisedUnitRecord))).scalar_one()
        audit = (await conn.execute(select(func.count()).select_from(kit.audit_log))).scalar_one()
    return units, audit


def finding_at(unit: dict[str, Any], **unit_overrides: Any) -> dict[str, Any]:
    return {
        "unit": {
            "id": unit["id"],
            "kind": unit["kind"],
            "name": "随便写的名字",
            "division_code": unit["division_code"],
            **unit_overrides,
        },
        "origin_kind": "supervision",
        "category": "funding",
        "severity": "major",
        "description": "教育经费未按规定足额拨付",
        "requirement": "补足拨付",
        "deadline": {"days": 30, "kind": "calendar"},
    }


async def test_an_office_registers_a_government_and_its_department_within_its_jurisdiction(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    department = await register_department(
        governance, office, COUNTY, competent_department_id=government["id"]
    )
    assert department["kind"] == "department"
    assert department["competent_department_id"] == government["id"]
    assert department["responsible_people"] == [{"name": "李四", "post": "局长"}]

    read = await governance.get(f"/v1/supervised-units/{department['id']}", headers=office)
    assert read.status_code == 200, read.text
    assert read.json() == department
    city = bearer(token("supervision_office", division=CITY))
    assert (await governance.get(f"/v1/supervised-units/{department['id']}", headers=city)).status_code == 200

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await governance.get(f"/v1/supervised-units/{department['id']}", headers=elsewhere)
    assert_problem(hidden, 404, "supervised-unit-not-found")
    listed = await governance.get("/v1/supervised-units", params={"within": COUNTY}, headers=elsewhere)
    assert listed.json()["items"] == []

    outside = await governance.post(
        "/v1/supervised-units",
        json={"kind": "department", "name": "财政局", "division_code": OTHER_COUNTY},
        headers=office,
    )
    assert_problem(outside, 403, "division-outside-jurisdiction")
    inspector = bearer(token("inspector", division=COUNTY))
    refused = await governance.post(
        "/v1/supervised-units",
        json={"kind": "department", "name": "财政局", "division_code": COUNTY},
        headers=inspector,
    )
    assert refused.status_code == 403


async def test_a_supervised_units_principal_sees_its_own_unit_and_its_own_rectifications(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    ours = await register_department(governance, office, COUNTY)
    neighbour = await register_department(governance, office, COUNTY)
    finding = await governance.post("/v1/findings", json=finding_at(ours), headers=office)
    assert finding.status_code == 201, finding.text
    theirs = await governance.post("/v1/findings", json=finding_at(neighbour), headers=office)
    assert theirs.status_code == 201, theirs.text

    unit = bearer(token("supervised_unit", division=COUNTY, org=ours["id"]))
    assert (await governance.get(f"/v1/supervised-units/{ours['id']}", headers=unit)).status_code == 200
    assert (await governance.get(f"/v1/supervised-units/{neighbour['id']}", headers=unit)).status_code == 404
    listed = await governance.get("/v1/supervised-units", headers=unit)
    assert [u["id"] for u in listed.json()["items"]] == [ours["id"]]
    rectifications = await governance.get("/v1/rectifications", headers=unit)
    assert [r["id"] for r in rectifications.json()["items"]] == [finding.json()["id"]]


async def test_a_finding_takes_the_registered_unit_and_an_unknown_one_is_refused(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    department = await register_department(governance, office, COUNTY)
    filed = await governance.post(
        "/v1/findings", json=finding_at(department, kind="government"), headers=office
    )
    assert filed.status_code == 201, filed.text
    detail = await governance.get(f"/v1/rectifications/{filed.json()['id']}", headers=office)
    finding = detail.json()["finding"]
    assert (finding["unit_name"], finding["unit_kind"]) == (department["name"], "department")

    before = await rows(engine)
    unknown = await governance.post(
        "/v1/findings", json=finding_at({**department, "id": f"gov-{secrets.token_hex(4)}"}), headers=office
    )
    assert_problem(unknown, 422, "unknown-supervised-unit", "unit.id")
    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    foreign = await governance.post("/v1/findings", json=finding_at(department), headers=elsewhere)
    assert_problem(foreign, 422, "unknown-supervised-unit", "unit.id")
    assert await rows(engine) == before


async def test_bad_registrations_name_the_field_and_write_nothing(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    department = await register_department(governance, office, COUNTY)
    before = await rows(engine)
    good = {"kind": "department", "name": f"财政局{secrets.token_hex(2)}", "division_code": COUNTY}

    async def post(body: dict[str, Any]) -> httpx.Response:
        return await governance.post("/v1/supervised-units", json=body, headers=office)

    assert_problem(await post({**good, "kind": "school"}), 422, "validation-error", "kind")
    assert_problem(
        await post({**good, "division_code": "450199"}), 422, "invalid-division-code", "division_code"
    )
    assert_problem(
        await post({**good, "responsible_people": [{"name": "王五"}]}),
        422,
        "validation-error",
        "responsible_people.0.post",
    )
    assert_problem(
        await post({**good, "competent_department_id": "01900000-0000-7000-8000-000000000000"}),
        422,
        "unknown-supervised-unit",
        "competent_department_id",
    )
    assert_problem(await post({**good, "name": department["name"]}), 409, "supervised-unit-taken")
    second_government = {"kind": "government", "name": "另一个人民政府", "division_code": COUNTY}
    assert_problem(await post(second_government), 409, "supervised-unit-taken")
    assert await rows(engine) == before

    stale = await governance.patch(
        f"/v1/supervised-units/{government['id']}",
        json={"name": "改名"},
        headers={**office, "If-Match": '"000000000000-1"'},
    )
    assert_problem(stale, 412, "precondition-failed")
    unmatched = await governance.patch(
        f"/v1/supervised-units/{government['id']}", json={"name": "改名"}, headers=office
    )
    assert_problem(unmatched, 428, "precondition-required")
    assert await rows(engine) == before


async def test_an_update_needs_the_etag_and_syncs_by_change_time(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    department = await register_department(governance, office, COUNTY)
    other = await register_department(governance, office, COUNTY)
    read = await governance.get(f"/v1/supervised-units/{department['id']}", headers=office)
    changed = await governance.patch(
        f"/v1/supervised-units/{department['id']}",
        json={
            "responsible_people": [{"name": "赵六", "post": "副局长"}],
            "competent_department_id": other["id"],
        },
        headers={**office, "If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["responsible_people"] == [{"name": "赵六", "post": "副局长"}]
    assert changed.headers["ETag"] != read.headers["ETag"]
    again = await governance.patch(
        f"/v1/supervised-units/{department['id']}",
        json={"name": "改名"},
        headers={**office, "If-Match": read.headers["ETag"]},
    )
    assert again.status_code == 412
    cleared = await governance.patch(
        f"/v1/supervised-units/{department['id']}",
        json={"competent_department_id": None},
        headers={**office, "If-Match": changed.headers["ETag"]},
    )
    assert cleared.json()["competent_department_id"] is None

    synced = await governance.get(
        "/v1/supervised-units",
        params={"within": COUNTY, "updated_since": changed.json()["updated_at"], "limit": 500},
        headers=office,
    )
    ids = [u["id"] for u in synced.json()["items"]]
    assert department["id"] in ids
    assert other["id"] not in ids


async def test_an_import_registers_every_unit_in_one_go_or_none(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=CITY))
    tag = secrets.token_hex(3)
    units = [
        {"kind": "department", "name": f"{name}{tag}", "division_code": code}
        for name in ("教育局", "财政局", "人社局")
        for code in (COUNTY, OTHER_COUNTY)
    ]
    before = await rows(engine)
    bad = await governance.post(
        "/v1/supervised-units/import",
        json={"units": [*units, {**units[0], "division_code": "450199"}]},
        headers=office,
    )
    assert_problem(bad, 422, "invalid-division-code", "units.6.division_code")
    twice = await governance.post(
        "/v1/supervised-units/import", json={"units": [*units, units[1]]}, headers=office
    )
    assert_problem(twice, 422, "validation-error", "units.6.name")
    assert await rows(engine) == before

    imported = await governance.post("/v1/supervised-units/import", json={"units": units}, headers=office)
    assert imported.status_code == 200, imported.text
    assert imported.json()["inserted"] == 6
    first = await governance.get(
        "/v1/supervised-units", params={"within": COUNTY, "limit": 2}, headers=office
    )
    page = first.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    after = await governance.get(
        "/v1/supervised-units", params={"within": COUNTY, "cursor": page["next_cursor"]}, headers=office
    )
    assert page["items"][-1]["id"] < after.json()["items"][0]["id"]


async def test_a_retried_registration_with_its_idempotency_key_registers_once(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = {**bearer(token("supervision_office", division=COUNTY)), "Idempotency-Key": secrets.token_hex(8)}
    body = {"kind": "department", "name": f"卫健局{secrets.token_hex(3)}", "division_code": COUNTY}
    first = await governance.post("/v1/supervised-units", json=body, headers=office)
    assert first.status_code == 201, first.text
    before = await rows(engine)
    retried = await governance.post("/v1/supervised-units", json=body, headers=office)
    assert (retried.status_code, retried.json()["id"]) == (201, first.json()["id"])
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert await rows(engine) == before
