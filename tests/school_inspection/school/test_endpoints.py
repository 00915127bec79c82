"""Schools over HTTP: jurisdiction, strict input, one transaction, ETags, idempotency, pagination."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from school_inspection.db import kit
from school_inspection.school.models import School
from tests.conftest import TokenFactory, bearer, random_school_code

COUNTY_A, COUNTY_B = "450102", "450103"  # 兴宁区, 青秀区 in Nanning


def new_school(division: str = COUNTY_A, **overrides: Any) -> dict[str, Any]:
    return {
        "school_code": random_school_code(),
        "name": "南宁市测试小学",
        "school_type": "primary",
        "ownership": "public",
        "division_code": division,
        "address": "民族大道1号",
        "enrolment": 1200,
        **overrides,
    }


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        schools = (await conn.execute(select(func.count()).select_from(School))).scalar_one()
        outbox = (await conn.execute(select(func.count()).select_from(kit.outbox))).scalar_one()
        audit = (await conn.execute(select(func.count()).select_from(kit.audit_log))).scalar_one()
    return schools, outbox, audit


@pytest.fixture
def office_a(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=COUNTY_A))


@pytest.fixture
def office_b(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=COUNTY_B))


async def test_registering_a_school_commits_row_event_and_audit_before_responding(
    inspection: httpx.AsyncClient, office_a: dict[str, str], engine: AsyncEngine
) -> None:
    before = await counts(engine)
    response = await inspection.post("/v1/schools", json=new_school(), headers=office_a)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/schools/{body['id']}"
    assert response.headers["etag"]
    # Visible to another connection the moment the response arrives: committed before it was sent.
    assert await counts(engine) == (before[0] + 1, before[1] + 1, before[2] + 1)
    async with engine.connect() as conn:
        envelope = (
            await conn.execute(select(kit.outbox.c.envelope).order_by(kit.outbox.c.seq.desc()).limit(1))
        ).scalar_one()
    assert envelope["type"] == "dudao.school-inspection.school.registered.v2"
    assert envelope["specversion"] == "1.0"
    assert envelope["division"] == COUNTY_A
    assert envelope["data"]["school_id"] == body["id"]


async def test_a_county_official_cannot_see_another_countys_school(
    inspection: httpx.AsyncClient, office_a: dict[str, str], office_b: dict[str, str], token: TokenFactory
) -> None:
    created = (await inspection.post("/v1/schools", json=new_school(COUNTY_A), headers=office_a)).json()
    url = f"/v1/schools/{created['id']}"

    assert (await inspection.get(url, headers=office_b)).status_code == 404
    patched = await inspection.patch(url, json={"name": "改名"}, headers={**office_b, "If-Match": "*"})
    assert patched.status_code == 404
    assert patched.headers["content-type"] == "application/problem+json"
    listed = (await inspection.get("/v1/schools", params={"limit": 500}, headers=office_b)).json()
    assert created["id"] not in {s["id"] for s in listed["items"]}

    city = bearer(token("supervision_office", division="450100"))
    assert (await inspection.get(url, headers=city)).status_code == 200
    other_city = bearer(token("supervision_office", division="450200"))
    assert (await inspection.get(url, headers=other_city)).status_code == 404


async def test_registering_outside_ones_jurisdiction_is_refused(
    inspection: httpx.AsyncClient, office_a: dict[str, str], engine: AsyncEngine
) -> None:
    before = await counts(engine)
    response = await inspection.post("/v1/schools", json=new_school(COUNTY_B), headers=office_a)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:dudao:problem:division-outside-jurisdiction"
    assert await counts(engine) == before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (new_school(enrolment=False), 422, "enrolment"),  # false is not a number
        (new_school(enrolment="1200"), 422, "enrolment"),  # nor is a string of digits
        (new_school(enrolment=-1), 422, "enrolment"),
        (new_school(school_type="university"), 422, "school_type"),
        (new_school(school_code="12345"), 422, "school_code"),
        (new_school(division_code="999999"), 422, None),  # not a division of this deployment
        (new_school(division_code="450100"), 422, None),  # a city, not a county
        (new_school(extra="field"), 422, "extra"),
        ({"name": "缺字段"}, 422, "school_code"),
    ],
)
async def test_ill_typed_input_gets_a_problem_and_writes_nothing(
    inspection: httpx.AsyncClient,
    engine: AsyncEngine,
    token: TokenFactory,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    before = await counts(engine)
    response = await inspection.post(
        "/v1/schools", json=body, headers=bearer(token("supervision_office", division="450000"))
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    if field:
        assert field in {e["field"] for e in problem["errors"]}
    assert await counts(engine) == before


async def test_malformed_and_oversized_bodies_get_problems_and_write_nothing(
    inspection: httpx.AsyncClient, office_a: dict[str, str], engine: AsyncEngine
) -> None:
    before = await counts(engine)
    headers = {**office_a, "content-type": "application/json"}
    malformed = await inspection.post("/v1/schools", content=b'{"school_code": ', headers=headers)
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "urn:dudao:problem:malformed-json"
    oversized = await inspection.post("/v1/schools", content=b" " * 1_100_000, headers=headers)
    assert oversized.status_code == 413
    assert oversized.headers["content-type"] == "application/problem+json"

    async def chunks() -> Any:  # no Content-Length: the limit is counted as the body streams in
        for _ in range(20):
            yield b" " * 100_000

    streamed = await inspection.post("/v1/schools", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert await counts(engine) == before


async def test_unknown_routes_and_methods_are_problems_too(
    inspection: httpx.AsyncClient, office_a: dict[str, str]
) -> None:
    missing = await inspection.get("/v1/no-such-thing", headers=office_a)
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
    wrong = await inspection.delete("/v1/schools", headers=office_a)
    assert (wrong.status_code, wrong.headers["content-type"]) == (405, "application/problem+json")
    bad_id = await inspection.get("/v1/schools/not-a-uuid", headers=office_a)
    assert bad_id.status_code == 422


async def test_updates_need_the_current_etag(inspection: httpx.AsyncClient, office_a: dict[str, str]) -> None:
    created = await inspection.post("/v1/schools", json=new_school(), headers=office_a)
    url, first_etag = f"/v1/schools/{created.json()['id']}", created.headers["etag"]

    assert (await inspection.patch(url, json={"name": "新名"}, headers=office_a)).status_code == 428
    updated = await inspection.patch(url, json={"name": "新名"}, headers={**office_a, "If-Match": first_etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "新名"
    assert updated.json()["version"] == 2
    assert updated.headers["etag"] != first_etag
    stale = await inspection.patch(url, json={"name": "再改"}, headers={**office_a, "If-Match": first_etag})
    assert stale.status_code == 412
    assert (await inspection.get(url, headers=office_a)).json()["name"] == "新名"


async def test_a_retried_post_with_the_same_idempotency_key_registers_once(
    inspection: httpx.AsyncClient, office_a: dict[str, str], engine: AsyncEngine
) -> None:
    body = new_school()
    headers = {**office_a, "Idempotency-Key": f"retry-{body['school_code']}"}
    before = await counts(engine)
    first = await inspection.post("/v1/schools", json=body, headers=headers)
    second = await inspection.post("/v1/schools", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await counts(engine) == (before[0] + 1, before[1] + 1, before[2] + 1)
    reused = await inspection.post("/v1/schools", json=new_school(), headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:dudao:problem:idempotency-key-reused"


async def test_a_duplicate_school_code_is_a_conflict_and_writes_nothing(
    inspection: httpx.AsyncClient, office_a: dict[str, str], engine: AsyncEngine
) -> None:
    body = new_school()
    assert (await inspection.post("/v1/schools", json=body, headers=office_a)).status_code == 201
    again = await inspection.post("/v1/schools", json={**body, "name": "另一所学校"}, headers=office_a)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:dudao:problem:school-code-taken"
    # The row, its event and its audit entry are one statement: the refused one left none of them.
    code = body["school_code"]
    async with engine.connect() as conn:
        events = select(func.count()).where(kit.outbox.c.envelope["data"]["school_code"].astext == code)
        entries = select(func.count()).where(kit.audit_log.c.details["school_code"].astext == code)
        named = select(func.count()).where(School.school_code == code, School.name == "另一所学校")
        assert [(await conn.execute(q)).scalar_one() for q in (events, entries, named)] == [1, 1, 0]


async def test_lists_page_by_cursor_and_sync_by_updated_since(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    county = "450107"  # 西乡塘区
    office = bearer(token("supervision_office", division=county))
    async with engine.connect() as conn:
        start = (await conn.execute(text("SELECT now()"))).scalar_one()
    ids = [
        (await inspection.post("/v1/schools", json=new_school(county), headers=office)).json()["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "within": county}
        if cursor:
            params["cursor"] = cursor
        page = (await inspection.get("/v1/schools", params=params, headers=office)).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    synced = (
        await inspection.get(
            "/v1/schools", params={"updated_since": start.isoformat(), "limit": 500}, headers=office
        )
    ).json()
    assert set(ids) <= {s["id"] for s in synced["items"]}
    bad_cursor = await inspection.get("/v1/schools", params={"cursor": "!!"}, headers=office)
    assert bad_cursor.status_code == 422


async def test_requests_without_valid_credentials_are_refused(
    inspection: httpx.AsyncClient, token: TokenFactory
) -> None:
    assert (await inspection.get("/v1/schools")).status_code == 401
    garbage = await inspection.get("/v1/schools", headers=bearer("not-a-jwt"))
    assert garbage.status_code == 401
    assert garbage.headers["www-authenticate"] == "Bearer"
    inspector = bearer(token("inspector", division=COUNTY_A))
    forbidden = await inspection.post("/v1/schools", json=new_school(), headers=inspector)
    assert forbidden.status_code == 403
