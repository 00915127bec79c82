"""Visits over HTTP: the eight routine items, GPS and times, teams and recusal, findings, jurisdiction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.db import kit
from tests.conftest import TokenFactory, bearer
from tests.school_inspection.inspectors.support import recommend
from tests.school_inspection.visits.support import (
    Headers,
    assert_problem,
    counts,
    iso,
    new_inspector,
    observations,
    recuse,
    register_school,
    time_moved,
    visit,
)

COUNTY, OTHER_COUNTY = "450502", "450503"  # 海城区, 银海区 in Beihai


@pytest.fixture(scope="module")
async def office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=COUNTY))


@pytest.fixture(scope="module")
async def inspector(token: TokenFactory) -> Headers:
    return bearer(token("inspector", division=COUNTY))


@pytest.fixture(scope="module")
async def school(inspection: httpx.AsyncClient, office: Headers) -> dict[str, Any]:
    return await register_school(inspection, office, COUNTY, name="海城区第一小学")


@pytest.fixture(scope="module")
async def team(inspection: httpx.AsyncClient, office: Headers) -> list[str]:
    return [await new_inspector(inspection, office, COUNTY) for _ in range(3)]


async def test_a_routine_visit_records_all_eight_items_with_time_and_position(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
) -> None:
    before = await counts(inspection_engine)
    response = await inspection.post("/v1/visits", json=visit(school["id"], team[:1]), headers=inspector)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/visits/{body['id']}"
    assert [i["item"] for i in body["items"]] == [
        "administration",
        "enrolment_fees",
        "curriculum",
        "pupil_workload",
        "teacher_ethics",
        "campus_safety",
        "hygiene",
        "school_ethos",
    ]
    assert (body["latitude"], body["longitude"], body["position_accuracy_m"]) == (21.4811, 109.1203, 8.5)
    assert body["started_at"].endswith("Z") or body["started_at"].endswith("+00:00")
    assert body["division_code"] == COUNTY
    after = await counts(inspection_engine)
    assert after["visit"] == before["visit"] + 1
    assert after["visit_item"] == before["visit_item"] + 8
    assert after["audit"] == before["audit"] + 1
    async with inspection_engine.connect() as conn:
        envelope = (
            await conn.execute(select(kit.outbox.c.envelope).order_by(kit.outbox.c.seq.desc()).limit(1))
        ).scalar_one()
    assert envelope["type"] == "dudao.school-inspection.visit.recorded.v1"
    assert envelope["data"]["visit_id"] == body["id"]
    fetched = await inspection.get(f"/v1/visits/{body['id']}", headers=inspector)
    assert fetched.json() == body


async def test_times_in_any_offset_are_stored_in_utc(
    inspection: httpx.AsyncClient, inspector: Headers, school: dict[str, Any], team: list[str]
) -> None:
    new_york = timezone(timedelta(hours=-5))
    started = (clock.now() - timedelta(hours=3)).astimezone(new_york)
    response = await inspection.post(
        "/v1/visits",
        json=visit(school["id"], team[:1], kind="random", items=[], started_at=iso(started)),
        headers=inspector,
    )
    assert response.status_code == 201, response.text
    stored = datetime.fromisoformat(response.json()["started_at"])
    assert stored == started
    assert stored.utcoffset() == timedelta(0)


async def test_a_visit_finding_opens_a_rectification_in_the_same_transaction(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
) -> None:
    upload = await inspection.post(
        "/v1/evidence", headers=inspector, files={"file": ("校门.jpg", b"\xff\xd8\xff photo", "image/jpeg")}
    )
    assert upload.status_code == 201, upload.text
    problem = {
        "result": "problem_found",
        "notes": "放学时段校门口无护学岗，车辆乱停",
        "evidence_ids": [upload.json()["id"]],
        "raise_finding": {
            "category": "safety",
            "severity": "major",
            "requirement": "设置护学岗并与交警联动疏导",
            "deadline": {"days": 20, "kind": "calendar"},
        },
    }
    before = await counts(inspection_engine)
    response = await inspection.post(
        "/v1/visits",
        json=visit(school["id"], team[:2], announced=False, items=observations(campus_safety=problem)),
        headers=inspector,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["announced"] is False
    items = {i["item"]: i for i in body["items"]}
    rectification_id = items["campus_safety"]["rectification_id"]
    assert rectification_id is not None
    assert all(i["rectification_id"] is None for k, i in items.items() if k != "campus_safety")
    after = await counts(inspection_engine)
    assert after["rectification"] == before["rectification"] + 1
    assert after["outbox"] == before["outbox"] + 2  # rectification opened + visit recorded

    listed = await inspection.get(
        "/v1/rectifications", params={"unit_id": school["school_code"]}, headers=inspector
    )
    assert [r["id"] for r in listed.json()["items"]] == [rectification_id]
    detail = (await inspection.get(f"/v1/rectifications/{rectification_id}", headers=inspector)).json()
    assert detail["deadline"] == (clock.today() + timedelta(days=20)).isoformat()
    finding = detail["finding"]
    assert (finding["origin_kind"], finding["origin_ref"]) == ("visit", body["id"])
    assert (finding["unit_kind"], finding["unit_name"]) == ("school", "海城区第一小学")
    assert finding["competent_department"] == "海城区教育局"
    assert finding["evidence_ids"] == [upload.json()["id"]]
    assert finding["description"].endswith("放学时段校门口无护学岗，车辆乱停")


async def test_a_failing_finding_rolls_the_visit_back(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
) -> None:
    """Thirty years on no holiday calendar is published: a working-day deadline is refused, and nothing of
    the visit that raised it stays."""
    problem = {
        "result": "problem_found",
        "notes": "食堂无留样记录",
        "raise_finding": {
            "category": "hygiene",
            "severity": "serious",
            "requirement": "建立留样制度",
            "deadline": {"days": 10, "kind": "working"},
        },
    }
    before = await counts(inspection_engine)
    with time_moved(timedelta(days=365 * 30)):
        body = visit(school["id"], team[:1], items=observations(hygiene=problem))
        response = await inspection.post("/v1/visits", json=body, headers=inspector)
    assert_problem(response, 422, "calendar-year-unknown")
    assert await counts(inspection_engine) == before


CANNOT_SERVE = {
    "recused": "inspector-recused",
    "untrained": "inspector-untrained",
    "unappointed": "inspector-not-appointed",
}


@pytest.mark.parametrize("reason", CANNOT_SERVE)
async def test_a_recused_untrained_or_unappointed_inspector_cannot_be_on_the_team(
    inspection: httpx.AsyncClient,
    office: Headers,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
    reason: str,
) -> None:
    """Every member must be able to serve at the school today: appointed, trained, with no conflict there."""
    if reason == "unappointed":
        member = (await recommend(inspection, office, COUNTY))["id"]
    else:
        member = await new_inspector(inspection, office, COUNTY, trained=reason != "untrained")
    if reason == "recused":
        await recuse(inspection, office, member, school["id"])
    before = await counts(inspection_engine)
    response = await inspection.post(
        "/v1/visits", json=visit(school["id"], [team[0], member]), headers=inspector
    )
    assert_problem(response, 409, CANNOT_SERVE[reason])
    assert member in response.json()["detail"]
    assert await counts(inspection_engine) == before


async def test_idempotent_upload_records_a_visit_once(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
) -> None:
    body = visit(school["id"], team[:1])
    headers = {**inspector, "Idempotency-Key": "visit-upload-7f3a"}
    first = await inspection.post("/v1/visits", json=body, headers=headers)
    before = await counts(inspection_engine)
    again = await inspection.post("/v1/visits", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert await counts(inspection_engine) == before


async def test_mobile_sync_lists_visits_changed_since(
    inspection: httpx.AsyncClient, inspector: Headers, school: dict[str, Any], team: list[str]
) -> None:
    since = clock.now()
    created = (
        await inspection.post("/v1/visits", json=visit(school["id"], team[:1]), headers=inspector)
    ).json()
    synced = await inspection.get("/v1/visits", params={"updated_since": iso(since)}, headers=inspector)
    assert synced.status_code == 200
    assert [v["id"] for v in synced.json()["items"]] == [created["id"]]
    by_school = await inspection.get(
        "/v1/visits", params={"school_id": school["id"], "kind": "routine", "limit": 1}, headers=inspector
    )
    assert len(by_school.json()["items"]) == 1
    assert by_school.json()["next_cursor"] is not None


async def test_visits_are_seen_only_within_ones_jurisdiction(
    inspection: httpx.AsyncClient,
    office: Headers,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    token: TokenFactory,
    inspection_engine: AsyncEngine,
) -> None:
    created = (
        await inspection.post("/v1/visits", json=visit(school["id"], team[:1]), headers=inspector)
    ).json()
    outsider = bearer(token("inspector", division=OTHER_COUNTY))
    assert_problem(
        await inspection.get(f"/v1/visits/{created['id']}", headers=outsider), 404, "visit-not-found"
    )
    listed = await inspection.get("/v1/visits", params={"limit": 500}, headers=outsider)
    assert created["id"] not in {v["id"] for v in listed.json()["items"]}
    city = bearer(token("supervision_office", division="450500"))
    assert (await inspection.get(f"/v1/visits/{created['id']}", headers=city)).status_code == 200

    before = await counts(inspection_engine)
    elsewhere = await inspection.post("/v1/visits", json=visit(school["id"], team[:1]), headers=outsider)
    assert_problem(elsewhere, 404, "school-not-found")
    unit = bearer(token("supervised_unit", division=COUNTY, org=school["school_code"]))
    assert_problem(await inspection.post("/v1/visits", json=visit(school["id"], team[:1]), headers=unit), 403)
    assert await counts(inspection_engine) == before


def _eight_but(drop: str) -> list[dict[str, Any]]:
    return [o for o in observations() if o["item"] != drop]


BAD_VISITS: list[tuple[dict[str, Any], int, str | None]] = [
    ({"items": _eight_but("school_ethos")}, 422, "items"),  # a routine visit observes all eight
    ({"items": [*observations(), observations()[0]]}, 422, "items"),
    ({"items": [*_eight_but("hygiene"), {"item": "administration", "result": "satisfactory"}]}, 422, "items"),
    ({"position": {"lat": 91.0, "lon": 109.1}}, 422, "position.lat"),
    ({"position": {"lat": -90.5, "lon": 109.1}}, 422, "position.lat"),
    ({"position": {"lat": 21.4, "lon": 180.01}}, 422, "position.lon"),
    ({"position": {"lat": "21.4", "lon": 109.1}}, 422, "position.lat"),  # a string is not a number
    ({"position": {"lat": True, "lon": 109.1}}, 422, "position.lat"),
    ({"position": {"lat": 21.4}}, 422, "position.lon"),
    ({"position": {"lat": 21.4, "lon": 109.1, "accuracy_m": -1}}, 422, "position.accuracy_m"),
    ({"started_at": 1767225600}, 422, "started_at"),  # a number is not a time
    ({"started_at": "2026-03-02T09:00:00"}, 422, "started_at"),  # a time needs its offset
    ({"kind": "inspection"}, 422, "kind"),
    ({"inspector_ids": []}, 422, "inspector_ids"),
    ({"announced": "yes"}, 422, "announced"),
    ({"comprehensive": True}, 422, "comprehensive"),  # only a special visit is comprehensive
    ({"items": observations(curriculum={"result": "problem_found"})}, 422, None),  # a problem needs notes
    (
        {"items": observations(curriculum={"raise_finding": {"category": "x"}})},
        422,
        None,
    ),
    ({"surprise": 1}, 422, "surprise"),
]


@pytest.mark.parametrize(("overrides", "status", "field"), BAD_VISITS)
async def test_bad_visits_get_a_problem_and_write_nothing(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
    overrides: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    before = await counts(inspection_engine)
    response = await inspection.post(
        "/v1/visits", json={**visit(school["id"], team[:1]), **overrides}, headers=inspector
    )
    assert_problem(response, status)
    if field:
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert await counts(inspection_engine) == before


async def test_rule_breaking_visits_are_refused_and_write_nothing(
    inspection: httpx.AsyncClient,
    inspector: Headers,
    school: dict[str, Any],
    team: list[str],
    inspection_engine: AsyncEngine,
) -> None:
    now = clock.now()
    cases: list[tuple[dict[str, Any], str]] = [
        (visit(school["id"], team[:1], ended_at=iso(now - timedelta(hours=3))), "ended_at"),
        (visit(school["id"], team[:1], ended_at=iso(now + timedelta(hours=1))), "ended_at"),  # the future
        (visit(school["id"], [team[0], team[0]]), "inspector_ids"),
        (visit(school["id"], team[:2], kind="special", comprehensive=True, items=[]), "inspector_ids"),
    ]
    unknown_evidence = observations(hygiene={"evidence_ids": ["01900000-0000-7000-8000-000000000000"]})
    before = await counts(inspection_engine)
    for body, field in cases:
        response = await inspection.post("/v1/visits", json=body, headers=inspector)
        assert_problem(response, 422, "invalid-visit")
        assert response.json()["errors"][0]["field"] == field
    stranger = await inspection.post(
        "/v1/visits", json=visit(school["id"], ["01900000-0000-7000-8000-00000000abcd"]), headers=inspector
    )
    assert_problem(stranger, 422, "unknown-inspectors")
    evidence = await inspection.post(
        "/v1/visits", json=visit(school["id"], team[:1], items=unknown_evidence), headers=inspector
    )
    assert_problem(evidence, 422, "unknown-evidence")
    nan = json.dumps(visit(school["id"], team[:1])).replace("21.4811", "NaN")
    refused = await inspection.post(
        "/v1/visits", content=nan, headers={**inspector, "content-type": "application/json"}
    )
    assert refused.status_code in (400, 422)
    assert refused.headers["content-type"] == "application/problem+json"
    assert await counts(inspection_engine) == before
