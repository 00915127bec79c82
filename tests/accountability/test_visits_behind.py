"""Schools behind on routine visits: the county's supervision office is told at the semester's midpoint and
urged by the city office at its end, once per fact, within jurisdiction."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.documents.models import Document, DocumentKind
from accountability.escalation.models import VisitsBehindFact
from dudao.config import Settings
from dudao.contracts.rectification import EscalationStepTaken
from dudao.db import session_factory
from dudao.numbering.models import DocumentSequence
from tests.accountability.conftest import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    Desk,
    School,
    notices,
    outbox,
    person,
    steps_on,
)

STEP_TAKEN = EscalationStepTaken.event_type
COUNTY_OFFICE = "兴宁区人民政府教育督导委员会办公室"
CITY_OFFICE = "南宁市人民政府教育督导委员会办公室"
OTHER_CITY = "450200"  # 柳州市


async def documents_about(engine: AsyncEngine, school: School) -> list[Document]:
    async with session_factory(engine)() as session:
        stmt = select(Document).where(Document.grounds.contains(school.code))
        return list((await session.execute(stmt)).scalars())


async def last_serial(engine: AsyncEngine, office: str, year: int) -> int:
    async with session_factory(engine)() as session:
        key = {"office_division": office, "kind": DocumentKind.URGING_ORDER, "year": year}
        sequence = await session.get(DocumentSequence, key)
        return sequence.last_serial if sequence else 0


async def test_at_the_midpoint_the_county_office_is_told_and_nothing_is_issued(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    school = School()
    event = school.behind("midpoint")

    emitted = await desk.deliver(event)

    assert [e.type for e in emitted] == []
    assert await steps_on(engine, event) == []
    assert await documents_about(engine, school) == []
    [notice] = await notices(engine, school)
    assert (notice.recipient_id, notice.recipient_kind.value) == (f"office:{COUNTY_A}", "unit")
    assert (notice.division_code, notice.case_id, notice.step_id) == (COUNTY_A, None, None)
    assert notice.title == "经常性督导进度滞后"
    assert f"{school.name}（学校标识码{school.code}）2026年春季学期" in notice.body
    assert "应开展经常性督导不少于2次" in notice.body
    assert "仅开展0次" in notice.body

    # The office reads it in its inbox under its id, and marks it read.
    office = person(settings, "supervision_office", division=COUNTY_A, org=f"office:{COUNTY_A}")
    inbox = await accountability.get(
        "/v1/notifications", params={"recipient_id": f"office:{COUNTY_A}", "limit": 500}, headers=office
    )
    assert str(notice.id) in {n["id"] for n in inbox.json()["items"]}
    read = await accountability.post(f"/v1/notifications/{notice.id}/read", headers=office)
    assert read.status_code == 200, read.text


async def test_at_the_semester_end_the_city_office_issues_an_urging_order_to_the_county_office(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    # An urging order the city office issued by hand just before: the next one follows it in its sequence.
    city_office = person(settings, "supervision_office", division=CITY)
    by_hand = await accountability.post(
        "/v1/escalation/steps",
        json={
            "kind": "urging_order",
            "grounds": "你单位未按时报送督导自评报告",
            "unit": {
                "id": "gov-450103",
                "kind": "county_government",
                "name": "青秀区人民政府",
                "division_code": COUNTY_B,
            },
        },
        headers=city_office,
    )
    assert by_hand.status_code == 201, by_hand.text
    number = re.fullmatch(r"南教督办〔\d{4}〕(\d+)号", by_hand.json()["document_number"])
    assert number
    serial = int(number[1])
    school = School()
    event = school.behind("end", visits=1)
    today = desk.clock.today()

    emitted = await desk.deliver(event)

    [step] = await steps_on(engine, event)
    assert (step.case_id, step.index, step.kind.value, step.reason.value) == (
        None,
        0,
        "urging_order",
        "visits_behind",
    )
    assert step.new_deadline == today + timedelta(days=15)
    assert step.division_code == COUNTY_A
    document = step.document
    assert document.number == f"南教督办〔{today.year}〕{serial + 1}号"
    assert (document.office_division, document.division_code) == (CITY, COUNTY_A)
    assert (document.unit_id, document.unit_kind, document.unit_name) == (
        f"office:{COUNTY_A}",
        "supervision_office",
        COUNTY_OFFICE,
    )
    assert document.urging_order is not None
    assert (document.urging_order.addressee, document.urging_order.copied_to) == (COUNTY_OFFICE, CITY_OFFICE)
    assert document.title == f"关于督促{COUNTY_OFFICE}限期整改的督办单"
    assert document.body.startswith(f"{COUNTY_OFFICE}：\n你单位所辖{school.name}（学校标识码{school.code}）")
    assert "应开展经常性督导不少于2次" in document.body
    assert "实际开展1次，未达到每学期经常性督导次数的规定" in document.body
    assert f"请于{today + timedelta(days=15):%Y年%-m月%-d日}前完成整改" in document.body
    assert f"抄送：{CITY_OFFICE}\n{CITY_OFFICE}" in document.body  # copied, and signed, by the city office
    assert "承担连带责任" not in document.body
    assert step.grounds == document.grounds

    # Evented as a step without a rectification, like a step ordered by hand.
    [step_event] = [e for e in emitted if e.type == STEP_TAKEN]
    assert step_event.data == {
        "division": COUNTY_A,
        "case_id": str(step.id),
        "step_id": str(step.id),
        "origin": None,
        "rectification_id": None,
        "step_index": 0,
        "step_kind": "urging_order",
        "reason": "visits_behind",
        "document_number": document.number,
        "new_deadline": str(today + timedelta(days=15)),
    }
    # The county office and the city office each hear of it under their ids.
    assert {(n.recipient_id, n.recipient_kind.value, n.step_id) for n in await notices(engine, school)} == {
        (f"office:{COUNTY_A}", "unit", step.id),
        (f"office:{CITY}", "competent_department", step.id),
    }


async def test_the_same_fact_delivered_twice_acts_once(desk: Desk, engine: AsyncEngine) -> None:
    school = School()
    midpoint, end = school.behind("midpoint"), school.behind("end")
    year = desk.clock.today().year

    await desk.deliver(midpoint)
    await desk.deliver(end)
    serial = await last_serial(engine, CITY, year)
    assert await desk.deliver(midpoint) == []
    assert await desk.deliver(end) == []

    assert len(await steps_on(engine, end)) == 1
    assert len(await documents_about(engine, school)) == 1
    assert len(await notices(engine, school)) == 3  # the midpoint notice, the order to both offices
    assert await last_serial(engine, CITY, year) == serial  # no number drawn for the second delivery
    [step] = await steps_on(engine, end)
    assert len(await outbox(engine, STEP_TAKEN, step_id=str(step.id))) == 1
    async with session_factory(engine)() as session:
        facts = select(VisitsBehindFact.checkpoint).where(VisitsBehindFact.school_id == school.id)
        assert sorted((await session.execute(facts)).scalars()) == ["end", "midpoint"]


async def test_another_city_cannot_see_the_order_or_the_notices(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    school = School()
    await desk.deliver(school.behind("midpoint"))
    await desk.deliver(school.behind("end"))
    [document] = await documents_about(engine, school)
    notice_ids = {str(n.id) for n in await notices(engine, school)}
    assert len(notice_ids) == 3

    for division, visible in ((COUNTY_A, True), (CITY, True), (COUNTY_B, False), (OTHER_CITY, False)):
        office = person(settings, "supervision_office", division=division)
        read = await accountability.get(f"/v1/documents/{document.id}", headers=office)
        assert read.status_code == (200 if visible else 404), division
        listed = await accountability.get(
            "/v1/documents", params={"unit_id": f"office:{COUNTY_A}", "limit": 500}, headers=office
        )
        assert (str(document.id) in {d["id"] for d in listed.json()["items"]}) == visible, division
        inbox = await accountability.get("/v1/notifications", params={"limit": 500}, headers=office)
        assert (notice_ids <= {n["id"] for n in inbox.json()["items"]}) == visible, division
        if not visible:
            assert not notice_ids & {n["id"] for n in inbox.json()["items"]}, division
