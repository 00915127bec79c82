"""Inspectors over HTTP: appointment order, qualifications, terms, training, recusal, reviews, scope."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.db import session_factory
from dudao.encryption import field_cipher
from school_inspection.db import kit
from school_inspection.inspector.repository import responsible_inspector
from school_inspection.inspector.service import phone_of
from tests.conftest import TokenFactory, bearer
from tests.school_inspection.inspectors.support import (
    Headers,
    appoint,
    assign,
    candidate,
    counts,
    day,
    problem_type,
    recommend,
    school,
    step,
    today,
    train,
)

COUNTY, OTHER_COUNTY = "450403", "450405"  # 万秀区, 长洲区 in Wuzhou


@pytest.fixture
def office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=COUNTY))


@pytest.fixture
def other_office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=OTHER_COUNTY))


def years_later(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


async def last_event(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        envelope: dict[str, Any] = (
            await conn.execute(select(kit.outbox.c.envelope).order_by(kit.outbox.c.seq.desc()).limit(1))
        ).scalar_one()
    return envelope


async def test_appointment_steps_are_taken_in_order_and_the_announcement_is_an_event(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await recommend(inspection, office, COUNTY)
    assert inspector["status"] == "recommended"
    assert [s["step"] for s in inspector["steps"]] == ["recommendation"]
    assert inspector["steps"][0]["acted_by"] == "区教育局"
    before = await counts(engine)

    skipped = await step(inspection, office, inspector["id"], "public_notice")
    assert skipped.status_code == 409
    assert problem_type(skipped) == "appointment-step-out-of-order"
    assert "review" in skipped.json()["detail"]
    assert await counts(engine) == before

    assert (await step(inspection, office, inspector["id"], "review", -50)).status_code == 201
    early = await step(inspection, office, inspector["id"], "announcement")
    assert (early.status_code, problem_type(early)) == (409, "appointment-step-out-of-order")
    backdated = await step(inspection, office, inspector["id"], "public_notice", -55)  # before the review
    assert (backdated.status_code, problem_type(backdated)) == (422, "invalid-date")
    assert (await step(inspection, office, inspector["id"], "public_notice", -40)).status_code == 201
    announced = await step(inspection, office, inspector["id"], "announcement", -30)
    assert announced.status_code == 201, announced.text
    body = announced.json()
    assert body["status"] == "appointed"
    assert body["appointed_on"] == day(-30)
    assert [s["step"] for s in body["steps"]] == ["recommendation", "review", "public_notice", "announcement"]
    assert all(s["recorded_by"] and s["step_date"] for s in body["steps"])
    assert body["terms"] == [{"sequence": 1, "starts_on": day(-30), "ends_on": body["terms"][0]["ends_on"]}]

    event = await last_event(engine)
    assert event["type"] == "dudao.school-inspection.inspector.appointed.v1"
    assert event["division"] == COUNTY
    assert event["data"]["inspector_id"] == inspector["id"]
    assert event["data"]["term_ends_on"] == body["terms"][0]["ends_on"]

    again = await step(inspection, office, inspector["id"], "announcement")
    assert (again.status_code, problem_type(again)) == (409, "appointment-step-out-of-order")


async def test_a_candidate_below_the_qualifications_cannot_pass_review(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    associate = await recommend(inspection, office, COUNTY, degree="associate")
    junior = await recommend(inspection, office, COUNTY, education_work_years=9)
    before = await counts(engine)
    for inspector, gap in ((associate, "degree"), (junior, "years")):
        refused = await step(inspection, office, inspector["id"], "review")
        assert (refused.status_code, problem_type(refused)) == (409, "inspector-unqualified")
        assert gap in refused.json()["detail"]
    assert await counts(engine) == before

    current = await inspection.get(f"/v1/inspectors/{junior['id']}", headers=office)
    fixed = await inspection.patch(
        f"/v1/inspectors/{junior['id']}",
        json={"education_work_years": 10},
        headers={**office, "If-Match": current.headers["etag"]},
    )
    assert fixed.status_code == 200, fixed.text
    assert (await step(inspection, office, junior["id"], "review")).status_code == 201


async def test_a_fourth_consecutive_part_time_term_is_refused(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    url = f"/v1/inspectors/{inspector['id']}/terms"
    for sequence in (2, 3):
        renewed = await inspection.post(url, json={}, headers=office)
        assert renewed.status_code == 201, renewed.text
        terms = renewed.json()["terms"]
        assert terms[-1]["sequence"] == sequence
        assert terms[-1]["starts_on"] > terms[-2]["ends_on"]
    start = date.fromisoformat(terms[0]["starts_on"])
    assert start == today() - timedelta(days=30)
    assert date.fromisoformat(terms[0]["ends_on"]) == years_later(start, 3) - timedelta(days=1)
    before = await counts(engine)
    fourth = await inspection.post(url, json={}, headers=office)
    assert (fourth.status_code, problem_type(fourth)) == (409, "term-limit-reached")
    assert await counts(engine) == before

    # After a break the run starts again.
    after_break = date.fromisoformat(terms[-1]["ends_on"]) + timedelta(days=400)
    resumed = await inspection.post(url, json={"starts_on": str(after_break)}, headers=office)
    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["terms"][-1]["sequence"] == 4


async def test_full_time_inspectors_serve_no_terms(inspection: httpx.AsyncClient, office: Headers) -> None:
    inspector = await appoint(inspection, office, COUNTY, employment="full_time")
    assert inspector["terms"] == []
    refused = await inspection.post(f"/v1/inspectors/{inspector['id']}/terms", json={}, headers=office)
    assert (refused.status_code, problem_type(refused)) == (409, "inspector-not-part-time")


async def test_no_assignment_before_pre_service_training(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY, trained=False)
    target = await school(inspection, office, COUNTY)
    before = await counts(engine)
    refused = await assign(inspection, office, inspector["id"], target["id"])
    assert (refused.status_code, problem_type(refused)) == (409, "inspector-untrained")
    assert await counts(engine) == before

    # Collective hours do not stand in for pre-service training.
    await train(inspection, office, inspector["id"], kind="collective", hours=40)
    still = await assign(inspection, office, inspector["id"], target["id"])
    assert (still.status_code, problem_type(still)) == (409, "inspector-untrained")

    await train(inspection, office, inspector["id"], kind="pre_service")
    assigned = await assign(inspection, office, inspector["id"], target["id"])
    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["starts_on"] == day(0)
    event = await last_event(engine)
    assert event["type"] == "dudao.school-inspection.assignment.assigned.v1"
    assert event["division"] == COUNTY
    assert event["data"]["school_id"] == target["id"]
    ledger = await inspection.get(f"/v1/inspectors/{inspector['id']}/training", headers=office)
    assert [r["kind"] for r in ledger.json()["items"]] == ["collective", "pre_service"]


async def test_only_announced_inspectors_are_assigned(inspection: httpx.AsyncClient, office: Headers) -> None:
    candidate_only = await recommend(inspection, office, COUNTY)
    await train(inspection, office, candidate_only["id"])
    target = await school(inspection, office, COUNTY)
    refused = await assign(inspection, office, candidate_only["id"], target["id"])
    assert (refused.status_code, problem_type(refused)) == (409, "inspector-not-appointed")

    # Nor outside a term: before the first one began.
    inspector = await appoint(inspection, office, COUNTY)
    early = await assign(inspection, office, inspector["id"], target["id"], starts_on=day(-31))
    assert (early.status_code, problem_type(early)) == (409, "inspector-not-appointed")


async def test_a_sixth_school_is_refused_for_a_one_to_five_inspector(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    schools = [await school(inspection, office, COUNTY) for _ in range(6)]
    for s in schools[:5]:
        response = await assign(inspection, office, inspector["id"], s["id"])
        assert response.status_code == 201, response.text
    before = await counts(engine)
    sixth = await assign(inspection, office, inspector["id"], schools[5]["id"])
    assert (sixth.status_code, problem_type(sixth)) == (409, "inspector-over-load")
    assert "1:5" in sixth.json()["detail"]
    assert await counts(engine) == before

    # Ending one assignment frees a place from the day after.
    listed = await inspection.get(
        "/v1/assignments", params={"inspector_id": inspector["id"], "current": "true"}, headers=office
    )
    assert len(listed.json()["items"]) == 5
    first = listed.json()["items"][0]
    ended = await inspection.post(f"/v1/assignments/{first['id']}/end", json={}, headers=office)
    assert ended.status_code == 200, ended.text
    assert ended.json()["ends_on"] == day(0)
    tomorrow = await assign(inspection, office, inspector["id"], schools[5]["id"], starts_on=day(1))
    assert tomorrow.status_code == 201, tomorrow.text


async def test_a_school_has_one_responsible_inspector_at_a_time(
    inspection: httpx.AsyncClient, office: Headers
) -> None:
    first, second = await appoint(inspection, office, COUNTY), await appoint(inspection, office, COUNTY)
    target = await school(inspection, office, COUNTY)
    assert (await assign(inspection, office, first["id"], target["id"], ends_on=day(10))).status_code == 201
    overlapping = await assign(inspection, office, second["id"], target["id"], starts_on=day(10))
    assert (overlapping.status_code, problem_type(overlapping)) == (409, "school-already-covered")
    assert (
        await assign(inspection, office, second["id"], target["id"], starts_on=day(11))
    ).status_code == 201


async def test_a_large_school_takes_a_dedicated_inspector(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    large = await school(inspection, office, COUNTY, enrolment=3001)
    small = await school(inspection, office, COUNTY)
    sharing = await appoint(inspection, office, COUNTY)
    assert (await assign(inspection, office, sharing["id"], small["id"])).status_code == 201
    before = await counts(engine)
    refused = await assign(inspection, office, sharing["id"], large["id"])
    assert (refused.status_code, problem_type(refused)) == (409, "dedicated-inspector-required")
    assert await counts(engine) == before

    dedicated = await appoint(inspection, office, COUNTY)
    assert (await assign(inspection, office, dedicated["id"], large["id"])).status_code == 201
    another = await school(inspection, office, COUNTY)
    more = await assign(inspection, office, dedicated["id"], another["id"])
    assert (more.status_code, problem_type(more)) == (409, "dedicated-inspector-required")
    # At the threshold itself a school is not "above" it.
    at_threshold = await school(inspection, office, COUNTY, enrolment=3000)
    assert (await assign(inspection, office, sharing["id"], at_threshold["id"])).status_code == 201


async def test_a_recused_inspector_cannot_be_assigned_and_a_conflict_ends_the_assignment(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    related, former = await school(inspection, office, COUNTY), await school(inspection, office, COUNTY)
    conflict = await inspection.post(
        f"/v1/inspectors/{inspector['id']}/conflicts",
        json={"school_id": related["id"], "kind": "near_relative", "description": "配偶任该校副校长"},
        headers=office,
    )
    assert conflict.status_code == 201, conflict.text
    before = await counts(engine)
    refused = await assign(inspection, office, inspector["id"], related["id"])
    assert (refused.status_code, problem_type(refused)) == (409, "inspector-recused")
    assert await counts(engine) == before

    served = await assign(inspection, office, inspector["id"], former["id"], starts_on=day(-10))
    assert served.status_code == 201
    recorded = await inspection.post(
        f"/v1/inspectors/{inspector['id']}/conflicts",
        json={"school_id": former["id"], "kind": "former_employer", "description": "2019年前在该校任教"},
        headers=office,
    )
    assert recorded.status_code == 201
    ended = await inspection.get("/v1/assignments", params={"school_id": former["id"]}, headers=office)
    assert [(a["ends_on"], a["end_reason"]) for a in ended.json()["items"]] == [(day(-1), "recusal")]
    async with session_factory(engine)() as session:
        assert await responsible_inspector(session, UUID(former["id"]), on=today()) is None
    conflicts = await inspection.get(f"/v1/inspectors/{inspector['id']}/conflicts", headers=office)
    assert {c["kind"] for c in conflicts.json()["items"]} == {"near_relative", "former_employer"}


async def test_the_plate_query_finds_the_current_responsible_inspector(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine, settings: Settings
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    target = await school(inspection, office, COUNTY)
    async with session_factory(engine)() as session:
        assert await responsible_inspector(session, UUID(target["id"]), on=today()) is None
    assert (await assign(inspection, office, inspector["id"], target["id"])).status_code == 201
    async with session_factory(engine)() as session:
        found = await responsible_inspector(session, UUID(target["id"]), on=today())
        assert found is not None
        assert (found.name, phone_of(field_cipher(settings), found), found.photo_url) == (
            inspector["name"],
            inspector["contact_phone"],
            inspector["photo_url"],
        )


async def test_an_unqualified_review_ends_the_appointment_and_its_assignments(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    target = await school(inspection, office, COUNTY)
    assert (
        await assign(inspection, office, inspector["id"], target["id"], starts_on=day(-5))
    ).status_code == 201
    url = f"/v1/inspectors/{inspector['id']}/reviews"
    year = today().year
    review = {"year": year, "rating": "unqualified", "reviewed_on": day(0), "comments": "未履行督导职责"}
    recorded = await inspection.post(url, json=review, headers=office)
    assert recorded.status_code == 201, recorded.text

    after = (await inspection.get(f"/v1/inspectors/{inspector['id']}", headers=office)).json()
    assert (after["status"], after["ended_on"], after["end_reason"]) == ("ended", day(0), "unqualified")
    assignments = await inspection.get("/v1/assignments", params={"school_id": target["id"]}, headers=office)
    assert [a["end_reason"] for a in assignments.json()["items"]] == ["appointment_ended"]
    refused = await assign(
        inspection, office, inspector["id"], (await school(inspection, office, COUNTY))["id"]
    )
    assert (refused.status_code, problem_type(refused)) == (409, "appointment-ended")
    again = await inspection.post(url, json={**review, "rating": "excellent"}, headers=office)
    assert (again.status_code, problem_type(again)) == (409, "appointment-ended")


async def test_one_review_a_year(inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    url = f"/v1/inspectors/{inspector['id']}/reviews"
    review = {"year": today().year, "rating": "excellent", "reviewed_on": day(0)}
    assert (await inspection.post(url, json=review, headers=office)).status_code == 201
    before = await counts(engine)
    twice = await inspection.post(url, json={**review, "rating": "qualified"}, headers=office)
    assert (twice.status_code, problem_type(twice)) == (409, "review-exists")
    future = await inspection.post(url, json={**review, "year": today().year + 1}, headers=office)
    assert (future.status_code, problem_type(future)) == (422, "invalid-date")
    assert await counts(engine) == before
    listed = await inspection.get(url, headers=office)
    assert [r["rating"] for r in listed.json()["items"]] == ["excellent"]


async def test_another_countys_inspectors_answer_404(
    inspection: httpx.AsyncClient,
    office: Headers,
    other_office: Headers,
    token: TokenFactory,
    engine: AsyncEngine,
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    url = f"/v1/inspectors/{inspector['id']}"
    theirs = await school(inspection, other_office, OTHER_COUNTY)
    before = await counts(engine)
    attempts = [
        await inspection.get(url, headers=other_office),
        await inspection.patch(url, json={"name": "改名"}, headers={**other_office, "If-Match": "*"}),
        await step(inspection, other_office, inspector["id"], "review"),
        await inspection.post(f"{url}/terms", json={}, headers=other_office),
        await inspection.post(
            f"{url}/training",
            json={"kind": "collective", "title": "x", "held_on": day(0), "class_hours": 8},
            headers=other_office,
        ),
        await inspection.get(f"{url}/training", headers=other_office),
        await inspection.post(
            f"{url}/conflicts",
            json={"school_id": theirs["id"], "kind": "other", "description": "x"},
            headers=other_office,
        ),
        await inspection.get(f"{url}/reviews", headers=other_office),
        await assign(inspection, other_office, inspector["id"], theirs["id"]),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert all(r.headers["content-type"] == "application/problem+json" for r in attempts)
    assert await counts(engine) == before
    listed = await inspection.get("/v1/inspectors", params={"limit": 500}, headers=other_office)
    assert inspector["id"] not in {i["id"] for i in listed.json()["items"]}

    # Nor can the county assign its inspector to the other county's school, which it cannot see.
    foreign = await assign(inspection, office, inspector["id"], theirs["id"])
    assert (foreign.status_code, problem_type(foreign)) == (404, "school-not-found")
    # The city above both sees the inspector, but a county's inspector serves only that county.
    city = bearer(token("supervision_office", division="450400"))
    assert (await inspection.get(url, headers=city)).status_code == 200
    across = await assign(inspection, city, inspector["id"], theirs["id"])
    assert (across.status_code, problem_type(across)) == (409, "school-outside-inspector-division")
    # Inspectors read; supervised units do not.
    assert (await inspection.get(url, headers=bearer(token("inspector", division=COUNTY)))).status_code == 200
    school_user = bearer(token("supervised_unit", division=COUNTY))
    assert (await inspection.get(url, headers=school_user)).status_code == 403


def bad(**overrides: Any) -> dict[str, Any]:
    return candidate(COUNTY, **overrides)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (bad(education_work_years=False), "education_work_years"),  # false is not a number
        (bad(education_work_years="12"), "education_work_years"),
        (bad(education_work_years=-1), "education_work_years"),
        (bad(degree="phd"), "degree"),
        (bad(employment="volunteer"), "employment"),
        (bad(contact_phone="call me"), "contact_phone"),
        (bad(photo_url="ftp://x/y.jpg"), "photo_url"),
        (bad(division_code="4504"), "division_code"),
        (bad(nickname="老李"), "nickname"),
        (bad(recommendation={"date": 20240101, "acted_by": "x"}), "recommendation.date"),
        (bad(recommendation={"date": "2024-02-30", "acted_by": "x"}), "recommendation.date"),
        (bad(recommendation={"date": day(1), "acted_by": "x"}), "recommendation.date"),  # the future
        ({"name": "缺字段"}, "division_code"),
    ],
)
async def test_bad_inspector_input_gets_a_problem_and_writes_nothing(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine, body: dict[str, Any], field: str
) -> None:
    before = await counts(engine)
    response = await inspection.post("/v1/inspectors", json=body, headers=office)
    assert response.status_code == 422, response.text
    assert problem_type(response)
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await counts(engine) == before


async def test_bad_ledger_and_assignment_input_gets_a_problem_and_writes_nothing(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    inspector = await appoint(inspection, office, COUNTY)
    target = await school(inspection, office, COUNTY)
    url = f"/v1/inspectors/{inspector['id']}"
    training = {"kind": "collective", "title": "培训", "held_on": day(0), "class_hours": 8}
    review = {"year": today().year, "rating": "qualified", "reviewed_on": day(0)}
    before = await counts(engine)
    attempts = [
        (f"{url}/training", {**training, "class_hours": 0}),
        (f"{url}/training", {**training, "class_hours": True}),
        (f"{url}/training", {**training, "kind": "online"}),
        (f"{url}/training", {**training, "held_on": day(3)}),
        (f"{url}/conflicts", {"school_id": "not-a-uuid", "kind": "other", "description": "x"}),
        (f"{url}/conflicts", {"school_id": target["id"], "kind": "friend", "description": "x"}),
        (f"{url}/reviews", {**review, "rating": "good"}),
        (f"{url}/reviews", {**review, "year": "2025"}),
        (f"{url}/appointment-steps", {"step": "promotion", "date": day(0), "acted_by": "x"}),
        (f"{url}/terms", {"starts_on": 5}),
        (
            "/v1/assignments",
            {"inspector_id": inspector["id"], "school_id": target["id"], "starts_on": 20250101},
        ),
        ("/v1/assignments", {"inspector_id": inspector["id"], "school_id": target["id"], "ends_on": day(-1)}),
        ("/v1/assignments", {"inspector_id": inspector["id"]}),
    ]
    for path, body in attempts:
        response = await inspection.post(path, json=body, headers=office)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], response.text
    assert await counts(engine) == before


async def test_writes_are_audited(
    inspection: httpx.AsyncClient, office: Headers, engine: AsyncEngine
) -> None:
    before = await counts(engine)
    inspector = await appoint(inspection, office, COUNTY)
    target = await school(inspection, office, COUNTY)
    assert (await assign(inspection, office, inspector["id"], target["id"])).status_code == 201
    after = await counts(engine)
    # recommendation, three steps, training, the school, the assignment
    assert after["audit_log"] - before["audit_log"] == 7
    assert after["outbox"] - before["outbox"] == 4  # appointed, trained, school registered, assigned
