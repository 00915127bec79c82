"""School inspection runs the same procedure for its supervisions of schools: the school's principal
self-evaluates as the school (its school code), an inspector tied to the school recuses, and an
unannounced supervision goes on site at once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from school_inspection.db import kit
from school_inspection.supervisions import supervisions
from tests.conftest import TokenFactory, bearer
from tests.kit.supervision.support import (
    appointed_inspectors,
    assert_problem,
    day,
    deliver_inspector_facts,
    supervision_body,
    team,
)
from tests.school_inspection.inspectors.support import school

COUNTY, OTHER_COUNTY = "450105", "450108"


async def test_an_inspector_tied_to_the_school_cannot_join_its_team(
    inspection: httpx.AsyncClient, token: TokenFactory, inspection_engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    registered = await school(inspection, office, COUNTY)
    inspectors = await appointed_inspectors(inspection, office, COUNTY, count=4)
    tie = await inspection.post(
        f"/v1/inspectors/{inspectors[3]['id']}/conflicts",
        json={"school_id": registered["id"], "kind": "near_relative", "description": "配偶任该校副校长"},
        headers=office,
    )
    assert tie.status_code == 201, tie.text
    await deliver_inspector_facts(inspection_engine, kit, supervisions, [i["id"] for i in inspectors])

    opened = await inspection.post(
        "/v1/supervisions", json=supervision_body([registered["id"]]), headers=office
    )
    assert opened.status_code == 201, opened.text
    (unit,) = opened.json()["units"]
    assert unit["unit_id"] == registered["school_code"]
    assert unit["unit_kind"] == "school"
    base = f"/v1/supervisions/{opened.json()['id']}"

    recused = await inspection.put(
        f"{base}/team", json=team([*inspectors[:2], inspectors[3]]), headers=office
    )
    assert_problem(recused, 409, "inspector-recused")
    accepted = await inspection.put(f"{base}/team", json=team(inspectors[:3]), headers=office)
    assert accepted.status_code == 200, accepted.text

    await inspection.post(f"{base}/notice", json={"text": "督导通知"}, headers=office)
    principal = bearer(token("supervised_unit", division=COUNTY, org=registered["school_code"]))
    unknown_evidence = await inspection.post(
        f"{base}/units/{registered['school_code']}/self-evaluation",
        json={"text": "自评", "evidence_ids": ["01900000-0000-7000-8000-000000000000"]},
        headers=principal,
    )
    assert_problem(unknown_evidence, 422, "unknown-evidence")
    still = await inspection.get(base, headers=principal)
    assert still.json()["units"][0]["self_evaluated_at"] is None
    assert still.json()["status"] == "notified"
    evaluated = await inspection.post(
        f"{base}/units/{registered['school_code']}/self-evaluation", json={"text": "自评"}, headers=principal
    )
    assert evaluated.status_code == 200, evaluated.text
    again = await inspection.post(
        f"{base}/units/{registered['school_code']}/self-evaluation", json={"text": "再评"}, headers=principal
    )
    assert_problem(again, 409, "supervision-already-done")

    other = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await inspection.get(base, headers=other)).status_code == 404


async def test_an_unannounced_supervision_goes_on_site_at_once(
    inspection: httpx.AsyncClient, token: TokenFactory, inspection_engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    registered = await school(inspection, office, COUNTY)
    inspectors = await appointed_inspectors(inspection, office, COUNTY)
    await deliver_inspector_facts(inspection_engine, kit, supervisions, [i["id"] for i in inspectors])
    body: dict[str, Any] = supervision_body(
        [registered["id"]], kind="unannounced", starts_on=day(0), ends_on=day(0)
    )
    opened = await inspection.post("/v1/supervisions", json=body, headers=office)
    base = f"/v1/supervisions/{opened.json()['id']}"
    without_team = await inspection.post(f"{base}/on-site", headers=office)
    assert_problem(without_team, 409, "supervision-team-too-small")
    await inspection.put(f"{base}/team", json=team(inspectors), headers=office)
    on_site = await inspection.post(f"{base}/on-site", headers=office)
    assert on_site.status_code == 200, on_site.text
    assert on_site.json()["status"] == "on_site"
    assert on_site.json()["notified_on"] is None
    pupils = {
        "unit_id": registered["school_code"],
        "heard_group": "pupils",
        "heard_count": 30,
        "heard_on": day(0),
        "summary": "学生反映作业量偏大。",
    }
    heard = await inspection.post(f"{base}/hearings", json=pupils, headers=office)
    assert heard.status_code == 201, heard.text
    named = await inspection.post(f"{base}/hearings", json={**pupils, "names": ["张小明"]}, headers=office)
    assert_problem(named, 422, "validation-error", "names")
    future = await inspection.post(f"{base}/hearings", json={**pupils, "heard_on": day(2)}, headers=office)
    assert_problem(future, 422, "invalid-supervision", "heard_on")
    assert len((await inspection.get(base, headers=office)).json()["hearings"]) == 1
