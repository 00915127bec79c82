"""The calendar over HTTP: read by all, published by administrators, provisional where an office allows."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.calendar.models import CalendarDay, CalendarYear, ProvisionalDeadlineAllowance
from dudao.common.models import common_kit
from tests.conftest import TokenFactory, bearer

PUBLISHED = "dudao.common.calendar.year_published.v1"
# Years no other test publishes or allows: each test below owns one.
UNKNOWN_YEAR = 2031
FLIP_YEAR = 2045
REFUSED_YEAR = 2046


@pytest.fixture
def admin(token: TokenFactory) -> dict[str, str]:
    return bearer(token("platform_admin", division="450000"))


def _office(token: TokenFactory, division: str) -> dict[str, str]:
    return bearer(token("supervision_office", division=division))


async def _deadline(
    governance: httpx.AsyncClient, who: dict[str, str], start: date, days: Any, kind: str = "working"
) -> httpx.Response:
    return await governance.get(
        "/v1/calendar/deadline",
        params={"start": start.isoformat(), "days": days, "kind": kind},
        headers=who,
    )


async def _published_events(engine: AsyncEngine, year: int) -> list[dict[str, Any]]:
    outbox = common_kit.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.envelope).where(outbox.c.type == PUBLISHED).order_by(outbox.c.seq)
        )
        return [r for (r,) in rows if r["data"]["year"] == year]


async def _written(engine: AsyncEngine, year: int) -> tuple[int, int, int]:
    """Year rows, day rows and publication events of ``year``."""
    async with engine.connect() as conn:
        years = (await conn.execute(select(func.count()).where(CalendarYear.year == year))).scalar_one()
        days = (
            await conn.execute(
                select(func.count()).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            )
        ).scalar_one()
    return years, days, len(await _published_events(engine, year))


async def test_everyone_reads_the_years_and_days_of_the_calendar(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    inspector = bearer(token("inspector", division="450102"))
    years = (await governance.get("/v1/calendar/years", headers=inspector)).json()
    package = {y["year"] for y in years if y["source"] == "chinese-calendar"}
    assert set(range(2004, 2027)) <= package

    days = await governance.get(
        "/v1/calendar/days", params={"from": "2025-09-27", "to": "2025-10-12"}, headers=inspector
    )
    assert days.status_code == 200
    by_date = {d["date"]: d for d in days.json()["days"]}
    assert len(by_date) == 16
    assert by_date["2025-09-28"] == {"date": "2025-09-28", "working": True, "name": "调休上班（国庆节）"}
    assert by_date["2025-10-06"] == {"date": "2025-10-06", "working": False, "name": "中秋"}
    assert by_date["2025-10-11"]["working"] is True
    assert by_date["2025-10-12"] == {"date": "2025-10-12", "working": False, "name": None}
    assert days.json()["unknown_years"] == []

    unknown = await governance.get(
        "/v1/calendar/days",
        params={"from": f"{UNKNOWN_YEAR}-12-30", "to": f"{UNKNOWN_YEAR + 1}-01-02"},
        headers=inspector,
    )
    assert unknown.json() == {"days": [], "unknown_years": [UNKNOWN_YEAR, UNKNOWN_YEAR + 1]}
    assert (await governance.get("/v1/calendar/years")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-01-01", "to": "2026-02-05"}, "to"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
        ({"from": "2025-02-30", "to": "2025-03-01"}, "from"),
    ],
)
async def test_days_are_listed_at_most_400_at_a_time(
    governance: httpx.AsyncClient, admin: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await governance.get("/v1/calendar/days", params=params, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_deadlines_in_working_and_calendar_days(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    county = _office(token, "450102")
    working = await _deadline(governance, county, date(2025, 9, 30), 3)
    assert working.status_code == 200
    assert working.json() == {
        "start": "2025-09-30",
        "days": 3,
        "kind": "working",
        "office_division": "450102",
        "due": "2025-10-11",
        "provisional": False,
    }
    calendar = await _deadline(governance, county, date(2025, 9, 30), 3, kind="calendar")
    assert (calendar.json()["due"], calendar.json()["provisional"]) == ("2025-10-03", False)


async def test_a_deadline_in_an_unknown_year_is_a_422_naming_the_year(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    refused = await _deadline(governance, _office(token, "450102"), date(UNKNOWN_YEAR, 3, 3), 10)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:dudao:problem:calendar-year-unknown"
    assert problem["title"] == "No holiday calendar for that year yet"
    assert problem["year"] == UNKNOWN_YEAR
    assert str(UNKNOWN_YEAR) in problem["detail"]


@pytest.mark.parametrize(
    ("days", "kind"), [("false", "working"), ("-1", "working"), ("3", "weekdays"), ("", "working")]
)
async def test_bad_deadline_questions_are_refused(
    governance: httpx.AsyncClient, admin: dict[str, str], days: str, kind: str
) -> None:
    response = await _deadline(governance, admin, date(2025, 9, 30), days, kind=kind)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:dudao:problem:validation-error"


async def test_provisional_deadlines_within_the_allowing_office_until_the_year_is_published(
    governance: httpx.AsyncClient, admin: dict[str, str], token: TokenFactory, engine: AsyncEngine
) -> None:
    year = FLIP_YEAR
    nanning, county, liuzhou = _office(token, "450100"), _office(token, "450102"), _office(token, "450200")
    # A Friday: ten weekdays later, less 2 and 3 October (国庆节, fixed dates), is Tuesday 17 October.
    start = date(year, 9, 29)
    assert (await _deadline(governance, county, start, 10)).status_code == 422

    allowed = await governance.post(
        "/v1/calendar/provisional-allowances", json={"division_code": "450100", "year": year}, headers=nanning
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["division_code"] == "450100"
    again = await governance.post(
        "/v1/calendar/provisional-allowances", json={"division_code": "450100", "year": year}, headers=nanning
    )
    assert again.status_code == 409

    for office in (nanning, county):
        provisional = await _deadline(governance, office, start, 10)
        assert (provisional.json()["due"], provisional.json()["provisional"]) == (f"{year}-10-17", True)
    assert (await _deadline(governance, liuzhou, start, 10)).status_code == 422

    # The State Council publishes the year: 1–7 October off, Saturday 7 October … made a working day.
    published = await governance.put(
        f"/v1/calendar/years/{year}",
        json={
            "holidays": [{"date": f"{year}-10-0{d}", "name": "国庆节"} for d in range(1, 7)]
            + [{"date": f"{year}-01-01", "name": "元旦"}],
            "adjusted_working_days": [{"date": f"{year}-10-07", "name": "调休上班"}],
        },
        headers=admin,
    )
    assert published.status_code == 200, published.text
    assert published.json()["source"] == "administrator"
    final = await _deadline(governance, county, start, 10)
    # Working: 7 (Sat, adjusted), 9–13, 16–19 October: the tenth is Thursday 19 October.
    assert (final.json()["due"], final.json()["provisional"]) == (f"{year}-10-19", False)
    events = await _published_events(engine, year)
    assert [(e["data"]["year"], e["data"]["source"], e["division"]) for e in events] == [
        (year, "administrator", "450000")
    ]
    assert events[0]["subject"] == str(year)


async def test_offices_allow_and_revoke_only_within_their_jurisdiction(
    governance: httpx.AsyncClient, admin: dict[str, str], token: TokenFactory, engine: AsyncEngine
) -> None:
    year = 2047
    nanning, liuzhou = _office(token, "450100"), _office(token, "450200")
    body = {"division_code": "450100", "year": year}
    outside = await governance.post("/v1/calendar/provisional-allowances", json=body, headers=liuzhou)
    assert outside.status_code == 403
    assert outside.json()["type"] == "urn:dudao:problem:allowance-outside-jurisdiction"
    inspector = bearer(token("inspector", division="450100"))
    assert (
        await governance.post("/v1/calendar/provisional-allowances", json=body, headers=inspector)
    ).status_code == 403
    known = await governance.post(
        "/v1/calendar/provisional-allowances", json={"division_code": "450100", "year": 2025}, headers=nanning
    )
    assert (known.status_code, known.json()["type"]) == (409, "urn:dudao:problem:calendar-year-known")

    assert (
        await governance.post("/v1/calendar/provisional-allowances", json=body, headers=nanning)
    ).status_code == 201
    path = f"/v1/calendar/provisional-allowances/450100/{year}"
    assert (await governance.delete(path, headers=liuzhou)).status_code == 404
    assert (await _deadline(governance, _office(token, "450102"), date(year, 3, 1), 5)).json()["provisional"]
    revoked = await governance.delete(path, headers=nanning)
    assert revoked.status_code == 204
    assert (await governance.delete(path, headers=admin)).status_code == 404
    assert (await _deadline(governance, _office(token, "450102"), date(year, 3, 1), 5)).status_code == 422
    async with engine.connect() as conn:
        left = await conn.execute(
            select(ProvisionalDeadlineAllowance).where(ProvisionalDeadlineAllowance.year == year)
        )
        assert left.first() is None
    audit = common_kit.audit_log
    async with engine.connect() as conn:
        actions = (
            await conn.execute(
                select(audit.c.action).where(audit.c.record_id == f"450100/{year}").order_by(audit.c.seq)
            )
        ).scalars()
        assert list(actions) == ["calendar.provisional_allowed", "calendar.provisional_revoked"]


@pytest.mark.parametrize(
    ("path_year", "body", "field"),
    [
        (
            REFUSED_YEAR,
            {"holidays": [{"date": f"{REFUSED_YEAR + 1}-01-01", "name": "元旦"}]},
            "holidays.0.date",
        ),
        (
            REFUSED_YEAR,
            {
                "holidays": [{"date": f"{REFUSED_YEAR}-01-06", "name": "元旦"}],
                "adjusted_working_days": [{"date": f"{REFUSED_YEAR}-01-06", "name": "调休上班"}],
            },
            "adjusted_working_days.0.date",
        ),
        (
            REFUSED_YEAR,
            {
                "holidays": [{"date": f"{REFUSED_YEAR}-01-01", "name": "元旦"}],
                "adjusted_working_days": [
                    {"date": f"{REFUSED_YEAR}-01-03", "name": "调休上班"}
                ],  # a Wednesday
            },
            "adjusted_working_days.0.date",
        ),
        (REFUSED_YEAR, {"holidays": [{"date": 20460101, "name": "元旦"}]}, "holidays.0.date"),
        (REFUSED_YEAR, {"holidays": [{"date": f"{REFUSED_YEAR}-01-01", "name": " "}]}, "holidays.0.name"),
        (
            REFUSED_YEAR,
            {"holidays": [{"date": f"{REFUSED_YEAR}-01-01", "name": "元旦", "working": False}]},
            "holidays.0.working",
        ),
        (REFUSED_YEAR, {"holidays": []}, "holidays"),
        (REFUSED_YEAR, {"holidays": False}, "holidays"),
        (1999, {"holidays": [{"date": "1999-01-01", "name": "元旦"}]}, "year"),
        (2101, {"holidays": [{"date": "2101-01-01", "name": "元旦"}]}, "year"),
    ],
)
async def test_bad_publications_are_refused_and_write_nothing(
    governance: httpx.AsyncClient,
    admin: dict[str, str],
    engine: AsyncEngine,
    path_year: int,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await governance.put(f"/v1/calendar/years/{path_year}", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await _written(engine, path_year) == (0, 0, 0)


async def test_only_a_platform_administrator_publishes_a_year(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    body = {"holidays": [{"date": f"{REFUSED_YEAR}-01-01", "name": "元旦"}]}
    for role in ("supervision_office", "inspector"):
        refused = await governance.put(
            f"/v1/calendar/years/{REFUSED_YEAR}", json=body, headers=bearer(token(role, division="450000"))
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert await _written(engine, REFUSED_YEAR) == (0, 0, 0)
