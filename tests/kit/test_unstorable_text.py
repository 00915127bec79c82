"""Text PostgreSQL cannot store (NUL, lone surrogates) is a 422 naming the field on every service, in
JSON bodies, query and path parameters, form fields and imported cells; nothing is written."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.http.app import create_service_app
from monitoring.collection import importing
from tests.conftest import TokenFactory, bearer, random_school_code, serve

COUNTY = "450102"  # 南宁市兴宁区


@pytest.fixture(scope="module")
async def monitoring(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from monitoring.main import spec

    async with serve(create_service_app(spec, settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def accountability(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from accountability.main import spec

    async with serve(create_service_app(spec, settings)) as client:
        yield client


@pytest.fixture
def clients(
    governance: httpx.AsyncClient,
    inspection: httpx.AsyncClient,
    monitoring: httpx.AsyncClient,
    accountability: httpx.AsyncClient,
) -> dict[str, httpx.AsyncClient]:
    return {
        "governance": governance,
        "school-inspection": inspection,
        "monitoring": monitoring,
        "accountability": accountability,
    }


SERVICES = ["governance", "school-inspection", "monitoring", "accountability"]


def refused(response: httpx.Response) -> list[tuple[str, str]]:
    """The (in, field) pairs a 422 names as unstorable text; fails on any other answer."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == "urn:dudao:problem:validation-error"
    assert all(e["code"] == "string_unstorable" for e in problem["errors"]), problem
    return [(e["in"], e["field"]) for e in problem["errors"]]


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_nul_in_a_query_parameter_is_a_422_naming_it(
    service: str, clients: dict[str, httpx.AsyncClient], token: TokenFactory
) -> None:
    headers = bearer(token("supervision_office", division=COUNTY))
    response = await clients[service].get("/v1/divisions?within=4501%00", headers=headers)
    assert refused(response) == [("query", "within")]


@pytest.mark.parametrize("service", SERVICES)
async def test_a_nul_in_a_path_parameter_is_a_422_naming_it(
    service: str, clients: dict[str, httpx.AsyncClient], token: TokenFactory
) -> None:
    headers = bearer(token("supervision_office", division=COUNTY))
    path = {
        "governance": "/v1/supervision-offices/ab%00cd",
        "school-inspection": "/v1/schools/ab%00cd",
        "monitoring": "/v1/agencies/ab%00cd",
        "accountability": "/v1/documents/ab%00cd",
    }[service]
    response = await clients[service].get(path, headers=headers)
    [(where, _field)] = refused(response)
    assert where == "path"


async def test_a_nul_in_an_api_key_name_writes_no_key(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    org = f"评估院-{secrets.token_hex(3)}"
    body = {"name": "数据\u0000报送", "org": org, "roles": ["agency"], "division_code": "450100"}
    response = await governance.post(
        "/v1/api-keys", json=body, headers=bearer(token("platform_admin", division="450000"))
    )
    assert refused(response) == [("body", "name")]
    assert await scalar(engine, "SELECT count(*) FROM common.api_key WHERE org = :org", org=org) == 0


async def test_a_nul_deep_in_a_school_writes_no_school(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    code = random_school_code()
    body = {
        "school_code": code,
        "name": "兴宁区测试小学",
        "school_type": "primary",
        "ownership": "public",
        "division_code": COUNTY,
        "address": "民族大道1号",
        "principal": {"name": "韦\u0000校长", "phone": "13907710001"},
    }
    office = bearer(token("supervision_office", division=COUNTY))
    response = await inspection.post("/v1/schools", json=body, headers=office)
    assert refused(response) == [("body", "principal.name")]
    written = "SELECT count(*) FROM inspection.school WHERE school_code = :code"
    assert await scalar(engine, written, code=code) == 0


async def test_a_lone_surrogate_and_a_nul_key_are_each_named(
    monitoring: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    name = f"评估机构-{secrets.token_hex(3)}"
    raw = (
        '{"name": "' + name + '", "credit_code": "91450100MA5K3R8L2X", "contacts": '
        '[{"name": "\\ud800", "phone": "13807710002"}], "extra\\u0000": 1}'
    )
    office = bearer(token("supervision_office", division=COUNTY))
    response = await monitoring.post(
        "/v1/agencies", content=raw.encode(), headers={**office, "Content-Type": "application/json"}
    )
    assert sorted(refused(response)) == [("body", "contacts.0.name"), ("body", "extra\u0000")]
    assert await scalar(engine, "SELECT count(*) FROM monitoring.agency WHERE name = :n", n=name) == 0


async def test_a_nul_in_an_escalation_ladder_writes_no_ladder(
    accountability: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    category = f"cat-{secrets.token_hex(4)}"
    body = {"finding_category": category + "\u0000", "steps": [{"kind": "circular", "new_deadline_days": 5}]}
    admin = bearer(token("platform_admin", division="450000"))
    response = await accountability.post("/v1/escalation/ladders", json=body, headers=admin)
    assert refused(response) == [("body", "finding_category")]
    written = "SELECT count(*) FROM accountability.escalation_ladder WHERE finding_category LIKE :c"
    assert await scalar(engine, written, c=category + "%") == 0


async def test_surrogate_pairs_and_escaped_backslashes_are_storable(
    accountability: httpx.AsyncClient, token: TokenFactory
) -> None:
    category = f"cat-{secrets.token_hex(4)}"
    # 😀 as its JSON escapes, and a literal backslash before "u0000": both store as they are.
    raw = '{"finding_category": "' + category + '\\ud83d\\ude00\\\\u0000", "steps": [{"kind": "circular"}]}'
    admin = bearer(token("platform_admin", division="450000"))
    response = await accountability.post(
        "/v1/escalation/ladders", content=raw.encode(), headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["finding_category"] == category + "😀\\u0000"


@pytest.mark.parametrize("service", ["governance", "school-inspection", "monitoring"])
async def test_a_nul_in_an_uploaded_file_name_is_a_422_naming_the_form_field(
    service: str, clients: dict[str, httpx.AsyncClient], token: TokenFactory
) -> None:
    # By hand: httpx would percent-encode the NUL in the file name.
    body = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="report\x00.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\r\n"
        b"--b0undary--\r\n"
    )
    headers = {
        **bearer(token("supervision_office", division=COUNTY)),
        "Content-Type": "multipart/form-data; boundary=b0undary",
    }
    response = await clients[service].post("/v1/evidence", content=body, headers=headers)
    assert refused(response) == [("body", "file")]


async def test_a_nul_in_an_imported_cell_is_named_by_row_and_column(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    good, bad = random_school_code(), random_school_code()
    lines = [
        "school_code,name,school_type,ownership,division_code,address,principal_name",
        f"{good},兴宁区第一小学,primary,public,{COUNTY},民族大道2号,黄校长",
        f"{bad},兴宁区第二小学,primary,public,{COUNTY},民族大道3号,韦\x00校长",
    ]
    office = bearer(token("supervision_office", division=COUNTY))
    response = await inspection.post(
        "/v1/schools/import",
        files={"file": ("schools.csv", "\n".join(lines).encode(), "text/csv")},
        headers=office,
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "principal_name")]
    assert "cannot be stored" in errors[0]["reason"]
    written = "SELECT count(*) FROM inspection.school WHERE school_code IN (:good, :bad)"
    assert await scalar(engine, written, good=good, bad=bad) == 0


def test_a_nul_in_a_bulk_submission_cell_is_named_by_row_and_column() -> None:
    """Monitoring's bulk cells are numbers and unit codes: a NUL in one is a bad cell like any other."""
    parsed = importing.read("text/csv", b"unit,a1\n4501020001,1\x00\n450102\x00,2\n")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "a1"), (3, "unit")]
