"""Upward filing: a lower office files with the office above, which acknowledges or returns; the office
above sees at a glance who filed what this year; a work plan missing after its due date is one fact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.uow import UnitOfWork
from governance.db import kit
from governance.filing import service
from governance.filing.models import Filing
from tests.conftest import TokenFactory, bearer
from tests.governance.committee.test_committees import record_office
from tests.governance.unit.support import Headers, assert_problem

CITY, FILED, RETURNED, SILENT, UNRECORDED = "451400", "451402", "451421", "451422", "451423"
YEAR = clock.today().year


@pytest.fixture(scope="module")
async def offices(governance: httpx.AsyncClient, token: TokenFactory) -> dict[str, Headers]:
    """Recorded offices of 崇左市 and three of its counties (宁明县's and 龙州县's … not all)."""
    headers = {
        code: bearer(token("supervision_office", division=code)) for code in (CITY, FILED, RETURNED, SILENT)
    }
    for code, office in headers.items():
        await record_office(governance, office, code)
    headers[UNRECORDED] = bearer(token("supervision_office", division=UNRECORDED))
    return headers


@pytest.fixture(scope="module")
async def governance_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, application_name="tests", pool_size=2, schema="governance")
    yield engine
    await engine.dispose()


async def file(
    governance: httpx.AsyncClient, office: Headers, kind: str = "work_plan", year: int = YEAR
) -> httpx.Response:
    body = {"year": year, "kind": kind, "title": f"{year}年教育督导工作计划", "content": "一、总体要求……"}
    return await governance.post("/v1/filings", json=body, headers=office)


async def rows(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        filings = (await conn.execute(select(func.count()).select_from(Filing))).scalar_one()
        audit = (await conn.execute(select(func.count()).select_from(kit.audit_log))).scalar_one()
    return filings, audit


async def test_the_office_above_acknowledges_or_returns_and_sees_who_filed_what(
    governance: httpx.AsyncClient, offices: dict[str, Headers], token: TokenFactory
) -> None:
    plan = await file(governance, offices[FILED])
    assert plan.status_code == 201, plan.text
    assert (plan.json()["superior_division"], plan.json()["status"]) == (CITY, "filed")
    acknowledged = await governance.post(
        f"/v1/filings/{plan.json()['id']}/decision",
        json={"decision": "acknowledged"},
        headers={**offices[CITY], "If-Match": plan.headers["ETag"]},
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["status"] == "acknowledged"

    matter = await file(governance, offices[RETURNED], kind="major_matter")
    assert matter.status_code == 201, matter.text
    path = f"/v1/filings/{matter.json()['id']}"
    silent = await governance.post(
        f"{path}/decision",
        json={"decision": "returned"},
        headers={**offices[CITY], "If-Match": matter.headers["ETag"]},
    )
    assert_problem(silent, 422, "validation-error", "comments")
    returned = await governance.post(
        f"{path}/decision",
        json={"decision": "returned", "comments": "请补充事项经过"},
        headers={**offices[CITY], "If-Match": matter.headers["ETag"]},
    )
    assert returned.json()["status"] == "returned"

    overview = await governance.get("/v1/filings/overview", headers=offices[CITY])
    assert overview.status_code == 200, overview.text
    by_division = {s["division_code"]: s for s in overview.json()["subordinates"]}
    assert set(by_division) >= {FILED, RETURNED, SILENT, UNRECORDED}
    assert by_division[FILED]["work_plan"] == {
        "status": "acknowledged",
        "filed": 0,
        "acknowledged": 1,
        "returned": 0,
    }
    assert by_division[RETURNED]["work_plan"]["status"] == "missing"
    assert by_division[RETURNED]["major_matter"]["status"] == "returned"
    assert by_division[SILENT]["supervision_results"]["status"] == "missing"
    assert (by_division[UNRECORDED]["office_id"], by_division[UNRECORDED]["work_plan"]["status"]) == (
        None,
        "missing",
    )
    assert overview.json()["work_plan_due_on"] == f"{YEAR}-03-31"

    refiled = await governance.post(
        f"{path}/refile",
        json={"content": "事项经过：……"},
        headers={**offices[RETURNED], "If-Match": returned.headers["ETag"]},
    )
    assert refiled.status_code == 200, refiled.text
    assert (refiled.json()["status"], refiled.json()["comments"], refiled.json()["version"]) == (
        "filed",
        "请补充事项经过",
        3,
    )
    again = await governance.get("/v1/filings/overview", headers=offices[CITY])
    assert {s["division_code"]: s for s in again.json()["subordinates"]}[RETURNED]["major_matter"][
        "status"
    ] == "filed"

    # Another county sees neither filing; the region sees them but decides on none of them.
    assert_problem(await governance.get(path, headers=offices[SILENT]), 404, "filing-not-found")
    region = bearer(token("supervision_office", division="450000"))
    assert (await governance.get(path, headers=region)).status_code == 200
    not_region = await governance.post(
        f"{path}/decision",
        json={"decision": "acknowledged"},
        headers={**region, "If-Match": refiled.headers["ETag"]},
    )
    assert_problem(not_region, 403, "not-the-superior-office")
    assert_problem(
        await governance.get("/v1/filings/overview", params={"division": CITY}, headers=offices[SILENT]),
        403,
        "division-outside-jurisdiction",
    )
    mine = await governance.get(
        "/v1/filings", params={"superior_division": CITY, "year": YEAR}, headers=offices[CITY]
    )
    assert {f["id"] for f in mine.json()["items"]} >= {plan.json()["id"], matter.json()["id"]}
    synced = await governance.get(
        "/v1/filings", params={"updated_since": refiled.json()["updated_at"]}, headers=offices[RETURNED]
    )
    assert [f["id"] for f in synced.json()["items"]] == [matter.json()["id"]]


async def test_bad_filings_are_refused_and_write_nothing(
    governance: httpx.AsyncClient, offices: dict[str, Headers], engine: AsyncEngine
) -> None:
    first = await file(governance, offices[SILENT], kind="supervision_results")
    assert first.status_code == 201, first.text
    decided = await governance.post(
        f"/v1/filings/{first.json()['id']}/decision",
        json={"decision": "acknowledged"},
        headers={**offices[CITY], "If-Match": first.headers["ETag"]},
    )
    before = await rows(engine)

    assert_problem(await file(governance, offices[SILENT], year=YEAR + 3), 422, "validation-error", "year")
    assert_problem(await file(governance, offices[SILENT], kind="diary"), 422, "validation-error", "kind")
    assert_problem(await file(governance, offices[UNRECORDED]), 409, "supervision-office-not-recorded")
    again = await governance.post(
        f"/v1/filings/{first.json()['id']}/decision",
        json={"decision": "returned", "comments": "再看看"},
        headers={**offices[CITY], "If-Match": decided.headers["ETag"]},
    )
    assert_problem(again, 409, "filing-wrong-status")
    not_returned = await governance.post(
        f"/v1/filings/{first.json()['id']}/refile",
        json={"content": "改"},
        headers={**offices[SILENT], "If-Match": decided.headers["ETag"]},
    )
    assert_problem(not_returned, 409, "filing-wrong-status")
    assert await rows(engine) == before

    plan = await file(governance, offices[SILENT])
    assert plan.status_code == 201, plan.text
    assert_problem(await file(governance, offices[SILENT]), 409, "work-plan-filed")


async def test_a_missing_work_plan_is_one_fact_per_office_whatever_the_number_of_schedulers(
    governance: httpx.AsyncClient,
    offices: dict[str, Headers],
    governance_engine: AsyncEngine,
    engine: AsyncEngine,
) -> None:
    # 金城江's plan is filed (the first test); 宁明县 has none.
    def uow() -> UnitOfWork:
        return UnitOfWork(session=session_factory(governance_engine)(), kit=kit, source="/tests", clock=clock)

    late = date(YEAR, 12, 31)
    first, second = uow(), uow()
    try:
        assert await service.notice_missing_work_plans(first, date(YEAR, 3, 31), "03-31") == 0  # not yet due
        noticed = await service.notice_missing_work_plans(first, late, "03-31")
        assert noticed >= 1
        racing = asyncio.create_task(service.notice_missing_work_plans(second, late, "03-31"))
        await first.commit()
        assert await racing == 0  # it waited for the first claim, then found it taken
        await second.commit()
    finally:
        await first.session.close()
        await second.session.close()

    async with engine.connect() as conn:
        facts = (
            await conn.execute(
                select(kit.outbox.c.envelope["data"]).where(
                    kit.outbox.c.type == "dudao.governance.filing.missing.v1"
                )
            )
        ).scalars()
        missing = [(f["division"], f["superior_division"], f["year"], f["due_on"]) for f in facts]
    expected: list[Any] = [(RETURNED, CITY, YEAR, f"{YEAR}-03-31")]
    assert [m for m in missing if m[0] == RETURNED] == expected
    assert [m for m in missing if m[0] == FILED] == []
