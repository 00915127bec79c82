"""Special supervision on a topic's checklist; emergency supervision opened at once, its first report
due within hours, and one overdue fact when it is late."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.db import session_factory
from dudao.uow import UnitOfWork
from governance.db import kit
from governance.special import service
from governance.special.models import SpecialTopic
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import assert_problem, government_of

CITY, COUNTY, OTHER_CITY = "450100", "450105", "450200"
SEEDED = {"workload", "paid_tutoring", "private_admission_fees", "off_campus_training", "pupil_safety"}


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_seeded_and_own_topics_and_a_special_supervision_opens_with_the_checklist(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    city = bearer(token("supervision_office", division=CITY))
    county = bearer(token("supervision_office", division=COUNTY))
    other = bearer(token("supervision_office", division=OTHER_CITY))
    listed = await governance.get("/v1/special-topics", params={"limit": 500}, headers=county)
    assert {t["code"] for t in listed.json()["items"]} >= SEEDED

    code = f"canteen_{secrets.token_hex(3)}"
    body = {
        "code": code,
        "name": "学校食堂管理",
        "description": "食堂承包、采购和陪餐制度",
        "checklist": [{"code": "C1", "text": "陪餐制度落实情况"}, {"code": "C2", "text": "大宗食材采购情况"}],
    }
    created = await governance.post("/v1/special-topics", json=body, headers=city)
    assert created.status_code == 201, created.text
    topic = created.json()
    assert_problem(
        await governance.post("/v1/special-topics", json=body, headers=city), 409, "special-topic-code-taken"
    )
    before = await count(engine, SpecialTopic.__table__)
    bad = {
        **body,
        "code": "x_" + secrets.token_hex(2),
        "checklist": [{"code": "C1", "text": "a"}, {"code": "C1", "text": "b"}],
    }
    assert_problem(
        await governance.post("/v1/special-topics", json=bad, headers=city),
        422,
        "invalid-emergency-supervision",
        "checklist",
    )
    assert_problem(
        await governance.post("/v1/special-topics", json={**body, "code": "Bad Code"}, headers=city),
        422,
        "validation-error",
        "code",
    )
    assert await count(engine, SpecialTopic.__table__) == before

    # The county below uses the city's topic; another city does not see it.
    assert (await governance.get(f"/v1/special-topics/{topic['id']}", headers=county)).status_code == 200
    assert (await governance.get(f"/v1/special-topics/{topic['id']}", headers=other)).status_code == 404
    assert (
        await governance.patch(
            f"/v1/special-topics/{topic['id']}", json={"name": "改"}, headers={**county, "If-Match": "*"}
        )
    ).status_code == 403
    changed = await governance.patch(
        f"/v1/special-topics/{topic['id']}",
        json={"name": "学校食堂和校园餐管理"},
        headers={**city, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2

    government = await government_of(governance, city, COUNTY)
    today = datetime.now(UTC).date()
    opened = await governance.post(
        f"/v1/special-topics/{topic['id']}/supervisions",
        json={
            "title": "江南区学校食堂专项督导",
            "unit_ids": [government["id"]],
            "plan": "抽查10所学校食堂",
            "starts_on": str(today + timedelta(days=10)),
            "ends_on": str(today + timedelta(days=20)),
        },
        headers=city,
    )
    assert opened.status_code == 201, opened.text
    supervision = opened.json()
    assert supervision["kind"] == "special"
    assert supervision["topic"] == code
    assert [c["code"] for c in supervision["checklist"]] == ["C1", "C2"]
    assert supervision["ref"] == f"special-topic:{topic['id']}"


async def test_an_emergency_supervision_opens_at_once_and_a_late_first_report_is_one_fact(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    city = bearer(token("supervision_office", division=CITY))
    other = bearer(token("supervision_office", division=OTHER_CITY))
    government = await government_of(governance, city, COUNTY)
    body = {
        "incident": "江南区某小学食物中毒事件",
        "description": "午餐后多名学生出现呕吐症状",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_ids": [government["id"]],
        "plan": "督导组即赴现场",
    }
    assert_problem(
        await governance.post(
            "/v1/emergency-supervisions",
            json={**body, "occurred_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            headers=city,
        ),
        422,
        "invalid-emergency-supervision",
        "occurred_at",
    )
    opened = await governance.post("/v1/emergency-supervisions", json=body, headers=city)
    assert opened.status_code == 201, opened.text
    emergency = opened.json()
    assert emergency["supervision"]["kind"] == "emergency"
    assert emergency["supervision"]["ref"] == f"emergency:{emergency['id']}"
    due = datetime.fromisoformat(emergency["report_due_at"]) - datetime.fromisoformat(emergency["opened_at"])
    assert due == timedelta(hours=24)
    assert (
        await governance.get(f"/v1/emergency-supervisions/{emergency['id']}", headers=other)
    ).status_code == 404

    late = datetime.fromisoformat(emergency["report_due_at"]) + timedelta(minutes=1)
    for _ in range(2):  # a second run notices nothing new
        async with session_factory(engine)() as session:
            uow = UnitOfWork(
                session=session, kit=kit, source="governance", clock=Clock(late - datetime.now(UTC))
            )
            await service.notice_overdue(uow, late)
            await uow.commit()
    async with engine.connect() as conn:
        facts = (
            await conn.execute(
                select(func.count())
                .select_from(kit.outbox)
                .where(
                    kit.outbox.c.type == "dudao.governance.emergency.report_overdue.v1",
                    kit.outbox.c.envelope["data"]["supervision_id"].astext == emergency["supervision_id"],
                )
            )
        ).scalar_one()
    assert facts == 1

    read = await governance.get(f"/v1/emergency-supervisions/{emergency['id']}", headers=city)
    report = {"text": "已初步查明原因，学生均已送医"}
    filed = await governance.post(
        f"/v1/emergency-supervisions/{emergency['id']}/first-report",
        json=report,
        headers={**city, "If-Match": read.headers["ETag"]},
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["first_report"] == report["text"]
    twice = await governance.post(
        f"/v1/emergency-supervisions/{emergency['id']}/first-report",
        json=report,
        headers={**city, "If-Match": "*"},
    )
    assert_problem(twice, 409, "first-report-filed")
