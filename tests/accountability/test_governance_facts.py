"""Governance's facts and what accountability does on them, each once: a failed duty evaluation climbs
its unit's ladder (interview, then circular), an excellent one is commended, a published round reaches
the organisation departments, a missing filing is a reminder, a late emergency report an urging order."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.documents.models import Document, DocumentKind
from accountability.escalation.models import CaseStatus, EscalationCase
from accountability.notifications.models import Notification
from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from dudao.contracts.governance import (
    DutyEvaluationConcluded,
    DutyEvaluationResult,
    DutyEvaluationRoundPublished,
    EmergencyReportOverdue,
    EvaluationGrade,
    FilingMissing,
)
from dudao.db import session_factory
from dudao.ids import uuid7
from tests.accountability.conftest import CITY, COUNTY_A, COUNTY_B, REGION, Desk, person, written

CONCLUDED_AT = datetime(2026, 3, 2, 10, tzinfo=BUSINESS_TZ)


def concluded(
    unit_id: str, grade: EvaluationGrade, *, year: int = 2025, targets_missed: list[str] | None = None
) -> DutyEvaluationConcluded:
    return DutyEvaluationConcluded(
        division=COUNTY_A,
        evaluation_id=str(uuid7()),
        round_id=str(uuid7()),
        year=year,
        office_division=CITY,
        unit_id=unit_id,
        unit_kind="government",
        unit_name="南宁市兴宁区人民政府",
        responsible_person="张三（副区长）",
        score={"excellent": 95.5, "good": 85.0, "pass": 70.0, "fail": 52.0}[grade],
        grade=grade,
        targets_missed=targets_missed or [],
        open_rectifications=2,
        concluded_at=CONCLUDED_AT,
    )


async def case_of_unit(engine: AsyncEngine, unit_id: str) -> EscalationCase | None:
    async with session_factory(engine)() as session:
        stmt = select(EscalationCase).where(EscalationCase.unit_id == unit_id)
        return (await session.execute(stmt)).scalar_one_or_none()


async def documents_to(engine: AsyncEngine, unit_id: str) -> list[Document]:
    async with session_factory(engine)() as session:
        stmt = select(Document).where(Document.unit_id == unit_id).order_by(Document.id)
        return list((await session.execute(stmt)).scalars())


async def inbox(engine: AsyncEngine, *recipients: str) -> list[Notification]:
    async with session_factory(engine)() as session:
        stmt = select(Notification).where(Notification.recipient_id.in_(recipients)).order_by(Notification.id)
        return list((await session.execute(stmt)).scalars())


async def test_a_failed_duty_evaluation_interviews_then_circulates_and_a_pass_closes_the_case(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    unit = f"gov-{secrets.token_hex(4)}"
    year = desk.clock.today().year
    fail = concluded(unit, "fail", targets_missed=["义务教育巩固率达到99%"])
    await desk.deliver(fail)
    await desk.deliver(fail)  # redelivered: nothing more
    case = await case_of_unit(engine, unit)
    assert case is not None
    assert (case.origin, case.category, case.ladder_position) == ("governance", "duty_evaluation", 1)
    [interview] = await documents_to(engine, unit)
    assert interview.kind is DocumentKind.INTERVIEW
    assert interview.office_division == CITY  # the evaluating office issues it, numbered in its series
    assert interview.number is not None
    assert interview.number.startswith("南教督谈〔")
    assert "评价等次为不合格，未完成年度目标：义务教育巩固率达到99%" in interview.body
    assert "张三（副区长）" in interview.body
    assert "fail" not in interview.body

    # Readable by the evaluating office and the county's within their jurisdiction; not by another county.
    url = f"/v1/documents/{interview.id}"
    city = await accountability.get(url, headers=person(settings, "supervision_office", division=CITY))
    assert city.status_code == 200, city.text
    assert city.json()["interview"]["responsible_person"] == "张三（副区长）"
    elsewhere = person(settings, "supervision_office", division=COUNTY_B)
    assert (await accountability.get(url, headers=elsewhere)).status_code == 404

    # Missing a target the next year, though graded good, is a trigger too: the ladder goes on.
    await desk.deliver(concluded(unit, "good", year=2026, targets_missed=["控辍保学"]))
    _, circular = await documents_to(engine, unit)
    assert circular.kind is DocumentKind.CIRCULAR
    assert circular.number is not None
    assert circular.number.startswith(f"南教督通〔{year}〕")
    assert "评价等次为良好，未完成年度目标：控辍保学" in circular.body

    # A clean result closes the case.
    await desk.deliver(concluded(unit, "pass", year=2027))
    closed = await case_of_unit(engine, unit)
    assert closed is not None
    assert closed.status is CaseStatus.CLOSED
    assert len(await documents_to(engine, unit)) == 2


async def test_an_excellent_result_is_commended_once(desk: Desk, engine: AsyncEngine) -> None:
    unit = f"gov-{secrets.token_hex(4)}"
    excellent = concluded(unit, "excellent")
    await desk.deliver(excellent)
    await desk.deliver(excellent)
    [commendation] = await documents_to(engine, unit)
    assert commendation.kind is DocumentKind.COMMENDATION
    assert commendation.number is not None
    assert commendation.number.startswith("南教督表〔")
    assert commendation.title == "关于表彰南宁市兴宁区人民政府的决定"
    assert "得分95.5分，评价等次为优秀" in commendation.body
    assert await case_of_unit(engine, unit) is None
    [notice] = await inbox(engine, unit)
    assert notice.title == f"表彰决定：{commendation.number}"


def round_of(division: str, title: str) -> DutyEvaluationRoundPublished:
    return DutyEvaluationRoundPublished(
        division=division,
        round_id=str(uuid7()),
        year=2025,
        title=title,
        results=[
            DutyEvaluationResult(
                evaluation_id=str(uuid7()),
                unit_id="gov-450102",
                unit_name="南宁市兴宁区人民政府",
                score=95.5,
                grade="excellent",
                open_rectifications=0,
            ),
            DutyEvaluationResult(
                evaluation_id=str(uuid7()),
                unit_id="gov-450103",
                unit_name="南宁市青秀区人民政府",
                score=52,
                grade="fail",
                open_rectifications=3,
            ),
        ],
        published_at=CONCLUDED_AT,
    )


async def test_a_published_round_reaches_the_organisation_departments_of_its_level_and_the_next(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    title = f"2025年度南宁市县级人民政府履行教育职责评价{secrets.token_hex(2)}"
    published = round_of(CITY, title)
    await desk.deliver(published)
    await desk.deliver(published)
    [document] = [
        d for d in await documents_to(engine, f"organisation-department:{CITY}") if title in d.title
    ]
    assert document.kind is DocumentKind.EVALUATION_RESULTS
    assert document.title == f"关于{title}结果的通报"
    assert document.number is not None
    assert document.number.startswith("南教督评〔")
    assert document.unit_name == "中共南宁市委员会组织部"
    assert "1. 南宁市兴宁区人民政府：95.5分，优秀；问题已全部整改销号" in document.body
    assert "2. 南宁市青秀区人民政府：52分，不合格；尚有3项问题未完成整改" in document.body
    assert "抄送：中共广西壮族自治区委员会组织部" in document.body
    notices = [
        n
        for n in await inbox(engine, f"organisation-department:{CITY}", f"organisation-department:{REGION}")
        if n.body == document.body
    ]
    assert sorted(n.recipient_id for n in notices) == [
        f"organisation-department:{REGION}",
        f"organisation-department:{CITY}",
    ]
    # The organisation department reads it as a member unit of its level.
    reader = person(settings, "member_unit", division=CITY, org=f"organisation-department:{CITY}")
    read = await accountability.get(f"/v1/documents/{document.id}", headers=reader)
    assert read.status_code == 200, read.text

    # The region's round has no level above it: its own organisation department only.
    region_title = f"2025年度设区市人民政府履行教育职责评价{secrets.token_hex(2)}"
    await desk.deliver(round_of(REGION, region_title))
    [regional] = [
        d for d in await documents_to(engine, f"organisation-department:{REGION}") if region_title in d.title
    ]
    assert regional.number is not None
    assert regional.number.startswith("桂教督评〔")
    assert "抄送" not in regional.body


async def test_a_missing_filing_reminds_the_lower_office_and_copies_its_superior(
    desk: Desk, engine: AsyncEngine
) -> None:
    county = "450123"  # 隆安县: no other test files there
    missing = FilingMissing(
        division=county,
        superior_division=CITY,
        year=2026,
        kind="work_plan",
        due_on=datetime(2026, 3, 31).date(),
    )
    before = await written(engine)
    await desk.deliver(missing)
    await desk.deliver(missing)
    reminders = [n for n in await inbox(engine, f"office:{county}", f"office:{CITY}") if "隆安县" in n.body]
    assert sorted(n.recipient_id for n in reminders) == [f"office:{CITY}", f"office:{county}"]
    assert reminders[0].title == "2026年度年度工作计划报送提醒"
    assert "未在2026年3月31日前报送" in reminders[0].body
    assert "work_plan" not in reminders[0].body
    counts = await written(engine)
    assert counts[3] == before[3]  # no document: a reminder only


async def test_a_late_emergency_report_gets_an_urging_order_from_the_office_above(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    county = "450125"  # 上林县
    late = EmergencyReportOverdue(
        division=county,
        supervision_id=str(uuid7()),
        office_division=county,
        incident=f"某小学食物中毒事件{secrets.token_hex(2)}",
        opened_at=CONCLUDED_AT,
        report_due_at=CONCLUDED_AT + timedelta(hours=4),
    )
    await desk.deliver(late)
    await desk.deliver(late)
    orders = [d for d in await documents_to(engine, f"office:{county}") if late.incident in d.body]
    [order] = orders
    assert order.kind is DocumentKind.URGING_ORDER
    assert order.office_division == CITY
    assert order.number is not None
    assert order.number.startswith("南教督办〔")
    assert "应于2026年3月2日14:00前报送首次督导报告，至今未报送" in order.body
    url = f"/v1/documents/{order.id}"
    assert (
        await accountability.get(url, headers=person(settings, "supervision_office", division=county))
    ).status_code == 200
    other = person(settings, "supervision_office", division="450126")
    assert (await accountability.get(url, headers=other)).status_code == 404
