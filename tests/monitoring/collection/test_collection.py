"""Collection tasks, a school's submission checked by its rules, and approval county → city → region."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dudao.contracts.monitoring import SubmissionApproved
from monitoring.collection import repository as values
from monitoring.db import kit
from tests.conftest import TokenFactory
from tests.monitoring.collection.conftest import (
    CITY,
    COUNTY,
    NEIGHBOUR,
    OTHER_CITY_COUNTY,
    YEAR,
    Schools,
    counts,
    good_values,
    issue,
    school_person,
    task_body,
)

Office = Callable[[str], dict[str, str]]


async def test_a_task_carries_its_form_and_rules_and_refuses_what_the_system_lacks(
    monitoring: httpx.AsyncClient, office: Office, system_id: UUID, engine: AsyncEngine
) -> None:
    task = await issue(monitoring, office(CITY), task_body(system_id))
    assert [f["code"] for f in task["form"]] == task_body(system_id)["elements"]
    assert task["form"][0]["label"]
    assert task["form"][0]["unit"] == "人"
    assert [r["kind"] for r in task["rules"]] == ["required", "range", "compare"]

    # The city's county sees the city's task; another city's office does not.
    assert (
        await monitoring.get(f"/v1/collection-tasks/{task['id']}", headers=office(COUNTY))
    ).status_code == 200
    away = await monitoring.get(f"/v1/collection-tasks/{task['id']}", headers=office("450200"))
    assert away.status_code == 404
    listed = await monitoring.get("/v1/collection-tasks", params={"year": YEAR}, headers=office(COUNTY))
    assert task["id"] in {t["id"] for t in listed.json()["items"]}

    async with engine.connect() as conn:
        before = await conn.scalar(select(values.TASKS.c.id).order_by(values.TASKS.c.id.desc()).limit(1))
    refused: list[tuple[dict[str, Any], str | None]] = [
        ({"elements": ["pupils_primary", "no_such_element"]}, "elements.1"),
        ({"elements": ["resource.1"]}, "elements.0"),  # derived, never collected
        ({"elements": ["guarantee.2_1"]}, "elements.0"),  # a county's, not a school's
        ({"rules": [{"kind": "required", "element": "equipment_value"}]}, "rules.0.element"),
        ({"due_on": "2020-01-01"}, "due_on"),
        ({"division_code": "450200"}, None),  # another city: outside the jurisdiction
    ]
    for bad, field in refused:
        response = await monitoring.post(
            "/v1/collection-tasks", json=task_body(system_id, **bad), headers=office(CITY)
        )
        assert response.status_code in (403, 422), response.text
        if field is not None:
            assert response.json()["errors"][0]["field"] == field
    bad_rule = {"rules": [{"kind": "compare", "element": "key_teachers", "operator": "<"}]}
    response = await monitoring.post(
        "/v1/collection-tasks", json=task_body(system_id, **bad_rule), headers=office(CITY)
    )
    assert response.status_code == 422
    async with engine.connect() as conn:
        after = await conn.scalar(select(values.TASKS.c.id).order_by(values.TASKS.c.id.desc()).limit(1))
    assert after == before  # nothing written


async def test_a_school_submits_and_each_level_approves_or_returns(
    monitoring: httpx.AsyncClient,
    office: Office,
    token: TokenFactory,
    system_id: UUID,
    schools: Schools,
    engine: AsyncEngine,
) -> None:
    [school] = await schools(1)
    [neighbour] = await schools(1, NEIGHBOUR)
    task = await issue(monitoring, office(CITY), task_body(system_id))
    url = f"/v1/collection-tasks/{task['id']}/submissions"
    person = school_person(token, school)

    # Bad values: every bad cell named, nothing written.
    bad = good_values(pupils_primary=None, key_teachers=90, teaching_floor_area=600000, pupils_junior=False)
    response = await monitoring.post(url, json={"values": bad}, headers=person)
    assert response.status_code == 422, response.text
    response = await monitoring.post(url, json={"values": {**bad, "pupils_junior": 1}}, headers=person)
    assert response.status_code == 422
    cells = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert cells == {(1, "pupils_primary"), (1, "key_teachers"), (1, "teaching_floor_area")}
    unknown = await monitoring.post(url, json={"values": {"equipment_value": 1}}, headers=person)
    assert {e["column"] for e in unknown.json()["errors"]} >= {"equipment_value"}
    other = await monitoring.post(
        url, json={"unit": neighbour["school_code"], "values": good_values()}, headers=person
    )
    assert other.json()["errors"][0]["column"] == "unit"
    assert await counts(engine, task["id"]) == (0, 0)

    response = await monitoring.post(url, json={"values": good_values()}, headers=person)
    assert response.status_code == 201, response.text
    submission = response.json()
    assert submission["status"] == "submitted"
    assert submission["awaiting"] == "county"
    assert submission["unit_id"] == str(school["school_id"])
    assert await counts(engine, task["id"]) == (1, 5)
    link = f"/v1/submissions/{submission['id']}"

    # Another county's office sees nothing of it; the city waits for the county.
    assert (await monitoring.get(link, headers=office(NEIGHBOUR))).status_code == 404
    etag = (await monitoring.get(link, headers=office(COUNTY))).headers["ETag"]
    early = await monitoring.post(
        f"{link}/reviews", json={"decision": "approved"}, headers={**office(CITY), "If-Match": etag}
    )
    assert early.status_code == 409
    no_etag = await monitoring.post(f"{link}/reviews", json={"decision": "approved"}, headers=office(COUNTY))
    assert no_etag.status_code == 428

    county = await monitoring.post(
        f"{link}/reviews", json={"decision": "approved"}, headers={**office(COUNTY), "If-Match": etag}
    )
    assert county.status_code == 200, county.text
    assert county.json()["awaiting"] == "city"
    # The school cannot change what its county approved.
    again = await monitoring.post(url, json={"values": good_values()}, headers=person)
    assert again.status_code == 422

    silent = await monitoring.post(
        f"{link}/reviews",
        json={"decision": "returned"},
        headers={**office(CITY), "If-Match": county.headers["ETag"]},
    )
    assert silent.status_code == 422  # a return says what to correct
    returned = await monitoring.post(
        f"{link}/reviews",
        json={"decision": "returned", "comment": "重点教师数与上年差异过大，请核实"},
        headers={**office(CITY), "If-Match": county.headers["ETag"]},
    )
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned"
    assert returned.json()["comment"].startswith("重点教师")

    resubmitted = await monitoring.post(url, json={"values": good_values(key_teachers=18)}, headers=person)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["comment"] is None
    assert await counts(engine, task["id"]) == (1, 5)

    for level in (COUNTY, CITY, "450000"):
        etag = (await monitoring.get(link, headers=office(level))).headers["ETag"]
        done = await monitoring.post(
            f"{link}/reviews", json={"decision": "approved"}, headers={**office(level), "If-Match": etag}
        )
        assert done.status_code == 200, done.text
    detail = (await monitoring.get(link, headers=person)).json()
    assert detail["status"] == "approved"
    assert detail["awaiting"] is None
    assert [(r["level"], r["decision"]) for r in detail["reviews"]] == [
        ("county", "approved"),
        ("city", "returned"),
        ("county", "approved"),
        ("city", "approved"),
        ("region", "approved"),
    ]
    assert Decimal(str(detail["values"]["key_teachers"])) == 18

    async with engine.connect() as conn:
        async with AsyncSession(conn) as session:
            approved = await values.approved(
                session,
                system_id=system_id,
                year=YEAR,
                division_prefix=COUNTY,
                element_codes=["key_teachers"],
            )
        events = (
            (
                await conn.execute(
                    select(kit.outbox.c.envelope).where(
                        kit.outbox.c.type == SubmissionApproved.event_type,
                        kit.outbox.c.envelope["subject"].astext == submission["id"],
                    )
                )
            )
            .scalars()
            .all()
        )
    mine = [r for r in approved if r.unit_id == str(school["school_id"])]
    assert [(r.element_code, r.value) for r in mine] == [("key_teachers", Decimal("18.0000"))]
    assert len(events) == 1
    assert events[0]["data"]["unit_id"] == str(school["school_id"])
    assert OTHER_CITY_COUNTY not in {r.division_code for r in approved}
