"""Cases, documents and manual steps over HTTP: jurisdiction, strict input, one transaction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.contracts.rectification import EscalationStepTaken
from tests.accountability.conftest import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    Desk,
    Rectification,
    case_of,
    escalated,
    outbox,
    person,
    steps_of,
    written,
)

REFUSING_SUPERVISION: dict[str, Any] = {
    "kind": "interview",
    "grounds": "你单位拒不接受教育督导，阻挠督导人员开展工作",
    "unit": {
        "id": "gov-450102",
        "kind": "county_government",
        "name": "兴宁区人民政府",
        "competent_department": None,
        "division_code": COUNTY_A,
    },
}


async def ids(
    accountability: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> set[str]:
    response = await accountability.get(path, params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_a_county_official_cannot_see_another_countys_cases_or_documents(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    rect = Rectification()
    case = await escalated(desk, engine, rect)
    [step] = await steps_of(engine, case.id)
    own = person(settings, "supervision_office", division=COUNTY_A)
    other = person(settings, "supervision_office", division=COUNTY_B)
    city = person(settings, "inspector", division=CITY)

    for headers, visible in ((own, True), (city, True), (other, False)):
        case_read = await accountability.get(f"/v1/cases/{case.id}", headers=headers)
        document_read = await accountability.get(f"/v1/documents/{step.document_id}", headers=headers)
        assert (case_read.status_code, document_read.status_code) == ((200, 200) if visible else (404, 404))
        listed_cases = await ids(accountability, "/v1/cases", headers, rectification_id=rect.id)
        listed_documents = await ids(accountability, "/v1/documents", headers, case_id=str(case.id))
        assert (str(case.id) in listed_cases, str(step.document_id) in listed_documents) == (visible, visible)

    detail = (await accountability.get(f"/v1/cases/{case.id}", headers=own)).json()
    assert [s["document_number"] for s in detail["steps"]] == [step.document.number]
    assert [d["id"] for d in detail["documents"]] == [str(step.document_id)]
    assert [(f["kind"], f["outcome"]) for f in detail["facts"]] == [
        ("opened", "noted"),
        ("overdue", "step_taken"),
    ]
    assert detail["documents"][0]["urging_order"]["copied_to"] == "兴宁区教育局"


async def test_a_supervised_unit_sees_only_its_own_cases(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    mine, neighbours = Rectification(), Rectification()
    for rect in (mine, neighbours):
        await desk.deliver(rect.event("opened"))
    unit = person(settings, "supervised_unit", division=COUNTY_A, org=mine.unit_id)
    mine_case, neighbours_case = await case_of(engine, mine), await case_of(engine, neighbours)
    assert mine_case is not None
    assert neighbours_case is not None
    assert await ids(accountability, "/v1/cases", unit) == {str(mine_case.id)}
    assert (await accountability.get(f"/v1/cases/{neighbours_case.id}", headers=unit)).status_code == 404
    filtered = await ids(
        accountability,
        "/v1/cases",
        person(settings, "supervision_office", division=COUNTY_A),
        unit_id=mine.unit_id,
        status="open",
    )
    assert filtered == {str(mine_case.id)}


async def test_an_office_orders_an_interview_for_refusing_supervision_without_a_rectification(
    accountability: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    office = person(settings, "supervision_office", division=COUNTY_A)
    response = await accountability.post("/v1/escalation/steps", json=REFUSING_SUPERVISION, headers=office)
    assert response.status_code == 201, response.text
    step = response.json()
    assert (step["case_id"], step["reason"], step["kind"], step["index"]) == (None, "manual", "interview", 0)
    assert re.fullmatch(r"兴教督谈〔\d{4}〕\d+号", step["document_number"])
    assert response.headers["location"] == f"/v1/documents/{step['document_id']}"

    [event] = await outbox(engine, EscalationStepTaken.event_type, step_id=step["id"])
    assert event["data"]["origin"] is None
    assert event["data"]["rectification_id"] is None
    assert event["data"]["case_id"] == step["id"]
    document = (await accountability.get(f"/v1/documents/{step['document_id']}", headers=office)).json()
    assert document["unit_name"] == "兴宁区人民政府"
    assert "拒不接受教育督导" in document["body"]
    government = person(settings, "supervised_unit", division=COUNTY_A, org="gov-450102")
    notices = (await accountability.get("/v1/notifications", headers=government)).json()["items"]
    assert [n["step_id"] for n in notices] == [step["id"]]


async def test_a_manual_step_on_a_case_counts_among_its_steps_but_not_on_its_ladder(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    rect = Rectification()
    case = await escalated(desk, engine, rect)
    office = person(settings, "supervision_office", division=COUNTY_A)
    body = {
        "kind": "circular",
        "grounds": "整改期间多次推诿扯皮",
        "case_id": str(case.id),
        "new_deadline_days": 5,
    }
    response = await accountability.post("/v1/escalation/steps", json=body, headers=office)
    assert response.status_code == 201, response.text
    new_deadline = desk.clock.today() + timedelta(days=5)
    assert (response.json()["index"], response.json()["new_deadline"]) == (1, str(new_deadline))

    rect.deadline = desk.clock.today()
    updated = await escalated(desk, engine, rect)
    assert (updated.step_count, updated.ladder_position) == (3, 2)
    assert [s.kind.value for s in await steps_of(engine, case.id)] == [
        "urging_order",
        "circular",
        "interview",
    ]

    await desk.deliver(rect.event("accepted"))
    closed = await accountability.post("/v1/escalation/steps", json=body, headers=office)
    assert closed.status_code == 409
    assert closed.json()["type"] == "urn:dudao:problem:case-closed"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"kind": "beheading"}, 422),
        ({"grounds": ""}, 422),
        ({"new_deadline_days": False}, 422),
        ({"new_deadline_days": 7.5}, 422),
        ({"case_id": "00000000-0000-7000-8000-000000000000"}, 422),  # both a case and a unit
        ({"unit": None}, 422),  # neither
        ({"kind": "urging_order", "place": "会议室"}, 422),  # a place is for interviews
        ({"kind": "accountability_decision", "new_deadline_days": 3}, 422),
        ({"scheduled_at": 1767225600}, 422),  # a number is not a timestamp
        ({"unit": {**REFUSING_SUPERVISION["unit"], "division_code": "450103"}}, 403),
        ({"unit": {**REFUSING_SUPERVISION["unit"], "division_code": "459999"}}, 422),
        ({"unit": None, "case_id": "00000000-0000-7000-8000-000000000000"}, 404),
    ],
)
async def test_a_bad_manual_step_gets_a_problem_and_writes_nothing(
    accountability: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    change: dict[str, Any],
    status: int,
) -> None:
    before = await written(engine)
    response = await accountability.post(
        "/v1/escalation/steps",
        json={**REFUSING_SUPERVISION, **change},
        headers=person(settings, "supervision_office", division=COUNTY_A),
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await written(engine) == before


async def test_only_offices_order_steps(accountability: httpx.AsyncClient, settings: Settings) -> None:
    for role in ("inspector", "supervised_unit", "member_unit"):
        headers = person(settings, role, division=COUNTY_A)
        response = await accountability.post(
            "/v1/escalation/steps", json=REFUSING_SUPERVISION, headers=headers
        )
        assert response.status_code == 403, role
    anonymous = await accountability.post("/v1/escalation/steps", json=REFUSING_SUPERVISION)
    assert anonymous.status_code == 401
