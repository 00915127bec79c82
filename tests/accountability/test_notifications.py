"""The inbox: reminders, overdue facts and steps reach the unit and its competent department."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from tests.accountability.conftest import COUNTY_A, COUNTY_B, Desk, Rectification, escalated, person

DEPARTMENT = "兴宁区教育局"


async def inbox(
    accountability: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> list[dict[str, object]]:
    response = await accountability.get("/v1/notifications", params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_reminders_overdue_facts_and_steps_reach_the_unit_and_its_department(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    rect = Rectification()
    await desk.open(rect)
    await desk.deliver(rect.event("due_soon"))
    await desk.deliver(rect.event("due_soon"))  # the same reminder again: one notice
    case = await escalated(desk, engine, rect)

    unit = person(settings, "supervised_unit", division=COUNTY_A, org=rect.unit_id)
    titles = [n["title"] for n in await inbox(accountability, unit)]
    assert len(titles) == 3  # newest first: the urging order, the overdue fact, the reminder
    assert str(titles[0]).startswith("督办单：")
    assert titles[1] == "整改逾期"
    assert titles[2] == "整改期限临近：还有7天"
    department = person(settings, "supervised_unit", division=COUNTY_A, org=DEPARTMENT)
    mine = [n for n in await inbox(accountability, department) if n["case_id"] == str(case.id)]
    assert len(mine) == 3
    assert {n["recipient_kind"] for n in mine} == {"competent_department"}

    # Neither another unit nor another county sees them; the county's office does.
    stranger = person(settings, "supervised_unit", division=COUNTY_A, org="school-somebody-else")
    assert await inbox(accountability, stranger, recipient_id=rect.unit_id) == []
    other_county = person(settings, "supervision_office", division=COUNTY_B)
    assert await inbox(accountability, other_county, recipient_id=rect.unit_id) == []
    office = person(settings, "supervision_office", division=COUNTY_A)
    assert len(await inbox(accountability, office, recipient_id=rect.unit_id)) == 3


async def test_the_recipient_marks_a_notification_read(
    accountability: httpx.AsyncClient, desk: Desk, settings: Settings
) -> None:
    rect = Rectification()
    await desk.open(rect)
    await desk.deliver(rect.event("overdue"))
    unit = person(settings, "supervised_unit", division=COUNTY_A, org=rect.unit_id)
    first_page = await accountability.get("/v1/notifications", params={"limit": 1}, headers=unit)
    assert first_page.json()["next_cursor"]
    second_page = await accountability.get(
        "/v1/notifications", params={"limit": 1, "cursor": first_page.json()["next_cursor"]}, headers=unit
    )
    newest, older = first_page.json()["items"][0], second_page.json()["items"][0]
    assert newest["id"] > older["id"]
    url = f"/v1/notifications/{newest['id']}/read"

    stranger = person(settings, "supervised_unit", division=COUNTY_A, org="school-somebody-else")
    assert (await accountability.post(url, headers=stranger)).status_code == 404
    office = person(settings, "supervision_office", division=COUNTY_A)
    refused = await accountability.post(url, headers=office)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:dudao:problem:not-the-recipient"

    read = await accountability.post(url, headers=unit)
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at
    assert (await accountability.post(url, headers=unit)).json()["read_at"] == read_at
    unread = await inbox(accountability, unit, unread="true")
    assert [n["id"] for n in unread] == [older["id"]]
