"""Findings and rectifications at schools: the unit reports, the inspector closes out or rejects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from dudao.config import Settings
from dudao.contracts.rectification import EscalationStepTaken
from dudao.db import session_factory
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from school_inspection.db import kit
from school_inspection.rectifications import rectifications
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.school_inspection.visits.support import register_school

COUNTY, OTHER_COUNTY = "450105", "450108"  # 江南区, 良庆区


@contextmanager
def time_moved(days: int) -> Iterator[None]:
    clock.advance(timedelta(days=days))
    try:
        yield
    finally:
        clock.advance(timedelta(days=-days))


def finding(unit_id: str, division: str = COUNTY, **overrides: Any) -> dict[str, Any]:
    return {
        "unit": {
            "id": unit_id,
            "kind": "school",
            "name": "江南区实验学校",
            "division_code": division,
            "competent_department": "江南区教育局",
        },
        "origin_kind": "visit",
        "origin_ref": "visit-2026-118",
        "category": "safety",
        "severity": "major",
        "description": "校门口无减速带，放学时段交通秩序混乱",
        "requirement": "设置减速带并安排护学岗",
        "deadline": {"days": 30, "kind": "calendar"},
        **overrides,
    }


@pytest.fixture
def unit_id() -> str:
    return random_school_code()


@pytest.fixture
def inspector(token: TokenFactory) -> dict[str, str]:
    return bearer(token("inspector", division=COUNTY))


@pytest.fixture
def school(token: TokenFactory, unit_id: str) -> dict[str, str]:
    return bearer(token("supervised_unit", division=COUNTY, sub=f"principal-{unit_id}", org=unit_id))


async def outbox_types(engine: AsyncEngine, rectification_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.type)
            .where(kit.outbox.c.envelope["data"]["rectification_id"].astext == rectification_id)
            .order_by(kit.outbox.c.seq)
        )
    return [t.split(".")[3] for t in rows.scalars()]


async def raise_one(
    inspection: httpx.AsyncClient, inspector: dict[str, str], unit_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await inspection.post("/v1/findings", json=finding(unit_id, **overrides), headers=inspector)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def system_uow(engine: AsyncEngine) -> UnitOfWork:
    """A unit of work as the worker's: the system acts, in school-inspection's schema."""
    return UnitOfWork(session=session_factory(engine)(), kit=kit, source="/tests", clock=clock)


async def test_a_finding_opens_a_rectification_with_its_deadline(
    inspection: httpx.AsyncClient, inspector: dict[str, str], unit_id: str, engine: AsyncEngine
) -> None:
    created = await raise_one(inspection, inspector, unit_id)
    assert created["status"] == "open"
    assert created["deadline"] == (clock.today() + timedelta(days=30)).isoformat()
    assert created["provisional_deadline"] is False
    assert created["overdue"] is False
    assert await outbox_types(engine, created["id"]) == ["opened"]
    detail = (await inspection.get(f"/v1/rectifications/{created['id']}", headers=inspector)).json()
    assert detail["finding"]["unit_name"] == "江南区实验学校"
    assert detail["finding"]["competent_department"] == "江南区教育局"


async def test_report_then_close_out(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    school: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
) -> None:
    created = await raise_one(inspection, inspector, unit_id)
    url = f"/v1/rectifications/{created['id']}"
    upload = await inspection.post(
        "/v1/evidence",
        headers=school,
        files={"file": ("减速带照片.png", b"\x89PNG fake image bytes", "image/png")},
    )
    assert upload.status_code == 201, upload.text
    report = await inspection.post(
        f"{url}/reports",
        headers=school,
        json={"text": "已设置减速带两处，护学岗每日值守", "evidence_ids": [upload.json()["id"]]},
    )
    assert report.status_code == 201, report.text
    assert (await inspection.get(url, headers=inspector)).json()["status"] == "submitted"

    accepted = await inspection.post(f"{url}/accept", headers=inspector)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "closed"
    assert await outbox_types(engine, created["id"]) == ["opened", "submitted", "accepted", "closed"]
    downloaded = await inspection.get(f"/v1/evidence/{upload.json()['id']}", headers=inspector)
    assert downloaded.content == b"\x89PNG fake image bytes"
    again = await inspection.post(f"{url}/accept", headers=inspector)
    assert again.status_code == 409


async def test_reject_reply_and_recheck(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    school: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
) -> None:
    created = await raise_one(inspection, inspector, unit_id)
    url = f"/v1/rectifications/{created['id']}"
    assert (
        await inspection.post(f"{url}/reports", headers=school, json={"text": "已整改"})
    ).status_code == 201
    rejected = await inspection.post(f"{url}/reject", headers=inspector, json={"reasons": "未见护学岗记录"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "open"
    replied = await inspection.post(f"{url}/reply", headers=school, json={"text": "护学岗记录见附件二"})
    assert replied.json()["status"] == "submitted"
    twice = await inspection.post(f"{url}/reply", headers=school, json={"text": "再次申辩"})
    assert twice.status_code == 409
    assert (await inspection.post(f"{url}/accept", headers=inspector)).status_code == 200

    reopened = await inspection.post(
        f"{url}/rechecks",
        headers=inspector,
        json={"result": "reopened", "notes": "暗访发现减速带已损坏", "deadline": {"days": 10}},
    )
    assert reopened.status_code == 201, reopened.text
    detail = (await inspection.get(url, headers=inspector)).json()
    assert detail["status"] == "open"
    assert detail["deadline"] == (clock.today() + timedelta(days=10)).isoformat()
    assert [r["result"] for r in detail["rechecks"]] == ["reopened"]
    assert await outbox_types(engine, created["id"]) == [
        "opened",
        "submitted",
        "rejected",
        "submitted",
        "accepted",
        "closed",
        "reopened",
    ]


async def test_a_reply_after_the_window_is_refused(
    inspection: httpx.AsyncClient, inspector: dict[str, str], school: dict[str, str], unit_id: str
) -> None:
    created = await raise_one(inspection, inspector, unit_id)
    url = f"/v1/rectifications/{created['id']}"
    await inspection.post(f"{url}/reports", headers=school, json={"text": "已整改"})
    await inspection.post(f"{url}/reject", headers=inspector, json={"reasons": "证据不足"})
    with time_moved(16):
        late = await inspection.post(f"{url}/reply", headers=school, json={"text": "迟到的申辩"})
    assert late.status_code == 409
    assert late.json()["type"] == "urn:dudao:problem:reply-window-closed"


async def test_only_the_unit_itself_reports_and_sees_its_rectifications(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    school: dict[str, str],
    unit_id: str,
    token: TokenFactory,
) -> None:
    mine = await raise_one(inspection, inspector, unit_id)
    other_unit = random_school_code()
    theirs = await raise_one(inspection, inspector, other_unit)
    assert (await inspection.get(f"/v1/rectifications/{theirs['id']}", headers=school)).status_code == 404
    listed = (await inspection.get("/v1/rectifications", headers=school, params={"limit": 500})).json()
    assert {r["unit_id"] for r in listed["items"]} == {unit_id}
    assert mine["id"] in {r["id"] for r in listed["items"]}
    other_county = bearer(token("inspector", division=OTHER_COUNTY))
    assert (await inspection.get(f"/v1/rectifications/{mine['id']}", headers=other_county)).status_code == 404
    assert (
        await inspection.post(f"/v1/rectifications/{mine['id']}/accept", headers=other_county)
    ).status_code == 404
    inspector_report = await inspection.post(
        f"/v1/rectifications/{mine['id']}/reports", headers=inspector, json={"text": "代为提交"}
    )
    assert inspector_report.status_code == 403


async def test_each_deadline_is_overdue_once_whatever_the_number_of_schedulers(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
    inspection_engine: AsyncEngine,
) -> None:
    created = await raise_one(inspection, inspector, unit_id, deadline={"days": 3})
    with time_moved(4):
        first, second = await system_uow(inspection_engine), await system_uow(inspection_engine)
        try:
            await rectifications.service.mark_overdue(first, clock.today())
            await first.commit()
            await rectifications.service.mark_overdue(second, clock.today())
            await second.commit()
        finally:
            await first.session.close()
            await second.session.close()
        detail = (await inspection.get(f"/v1/rectifications/{created['id']}", headers=inspector)).json()
    assert detail["overdue"] is True
    assert (await outbox_types(engine, created["id"])).count("overdue") == 1


async def test_reminders_go_out_seven_days_and_one_day_before(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
    inspection_engine: AsyncEngine,
) -> None:
    created = await raise_one(inspection, inspector, unit_id, deadline={"days": 10})
    for moved in (0, 3, 3, 9, 9):
        with time_moved(moved):
            uow = await system_uow(inspection_engine)
            try:
                await rectifications.service.remind(uow, clock.today(), [7, 1])
                await uow.commit()
            finally:
                await uow.session.close()
    async with engine.connect() as conn:
        reminders = (
            await conn.execute(
                select(kit.outbox.c.envelope["data"]["days_before"].as_integer())
                .where(
                    kit.outbox.c.envelope["data"]["rectification_id"].astext == created["id"],
                    kit.outbox.c.type == "dudao.school-inspection.rectification.due_soon.v1",
                )
                .order_by(kit.outbox.c.seq)
            )
        ).scalars()
        assert list(reminders) == [7, 1]


async def test_an_escalation_step_moves_the_deadline_once(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
    inspection_engine: AsyncEngine,
) -> None:
    created = await raise_one(inspection, inspector, unit_id)
    step = EscalationStepTaken(
        division=COUNTY,
        case_id=str(uuid7()),
        step_id=str(uuid7()),
        origin="school-inspection",
        rectification_id=created["id"],
        step_index=0,
        step_kind="urging_order",
        reason="overdue",
        document_number="桂教督办〔2026〕3号",
        new_deadline=date(2027, 1, 15),
    )
    for _ in range(2):  # a redelivery changes nothing
        uow = await system_uow(inspection_engine)
        try:
            await rectifications.service.apply_steps(uow, [step])
            await uow.commit()
        finally:
            await uow.session.close()
    detail = (await inspection.get(f"/v1/rectifications/{created['id']}", headers=inspector)).json()
    assert detail["deadline"] == "2027-01-15"
    assert detail["escalation_level"] == 1
    assert detail["last_step_kind"] == "urging_order"
    assert [(s["step_kind"], s["document_number"]) for s in detail["steps"]] == [
        ("urging_order", "桂教督办〔2026〕3号")
    ]


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"deadline": {"days": False}}, 422, "deadline.days"),
        ({"deadline": {"days": 0}}, 422, "deadline.days"),
        ({"deadline": {"days": 10, "kind": "lunar"}}, 422, "deadline.kind"),
        ({"severity": "apocalyptic"}, 422, "severity"),
        ({"category": "Not A Slug"}, 422, "category"),
        ({"evidence_ids": ["01900000-0000-7000-8000-000000000000"]}, 422, None),
        (
            {"unit": {"id": "x", "kind": "school", "name": "外县学校", "division_code": OTHER_COUNTY}},
            403,
            None,
        ),
    ],
)
async def test_bad_findings_get_problems_and_write_nothing(
    inspection: httpx.AsyncClient,
    inspector: dict[str, str],
    unit_id: str,
    engine: AsyncEngine,
    overrides: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    async with engine.connect() as conn:
        before = (await conn.execute(select(func.count()).select_from(kit.outbox))).scalar_one()
    response = await inspection.post("/v1/findings", json=finding(unit_id, **overrides), headers=inspector)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert field in {e["field"] for e in response.json()["errors"]}
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(kit.outbox))).scalar_one() == before


async def test_evidence_of_the_wrong_type_or_size_is_refused(
    inspection: httpx.AsyncClient, school: dict[str, str]
) -> None:
    script = await inspection.post(
        "/v1/evidence", headers=school, files={"file": ("x.sh", b"rm -rf /", "application/x-sh")}
    )
    assert script.status_code == 422
    assert script.json()["type"] == "urn:dudao:problem:evidence-refused"
    empty = await inspection.post(
        "/v1/evidence", headers=school, files={"file": ("e.pdf", b"", "application/pdf")}
    )
    assert empty.status_code == 422
    huge = await inspection.post(
        "/v1/evidence",
        headers=school,
        files={"file": ("big.pdf", b"0" * (21 * 1_048_576), "application/pdf")},
    )
    assert huge.status_code == 413


async def test_evidence_over_the_storage_limit_is_413_and_leaves_no_file(
    inspection: httpx.AsyncClient, school: dict[str, str], settings: Settings
) -> None:
    root = settings.evidence_root / "inspection"
    before = set(root.rglob("*")) if root.exists() else set()
    # Within the request limit (which leaves room for the multipart framing), over the file limit.
    response = await inspection.post(
        "/v1/evidence",
        headers=school,
        files={"file": ("big.pdf", b"0" * (settings.evidence_max_bytes + 1), "application/pdf")},
    )
    assert response.status_code == 413, response.text
    assert response.json()["type"] == "urn:dudao:problem:payload-too-large"
    assert {p for p in root.rglob("*") if p.is_file()} - before == set()


async def test_a_registered_school_code_is_resolved_to_the_school_in_the_registry(
    inspection: httpx.AsyncClient, inspector: dict[str, str], token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    registered = await register_school(inspection, office, COUNTY, name="江南区登记小学")
    created = await raise_one(
        inspection,
        inspector,
        registered["school_code"],
        unit={"id": registered["school_code"], "kind": "school", "name": "别名小学", "division_code": COUNTY},
    )
    detail = (await inspection.get(f"/v1/rectifications/{created['id']}", headers=inspector)).json()
    assert (detail["finding"]["unit_name"], detail["finding"]["division_code"]) == ("江南区登记小学", COUNTY)

    elsewhere = await register_school(
        inspection, bearer(token("supervision_office", division=OTHER_COUNTY)), OTHER_COUNTY
    )
    claimed_here = {
        "id": elsewhere["school_code"],
        "kind": "school",
        "name": "外县学校",
        "division_code": COUNTY,
    }
    refused = await inspection.post(
        "/v1/findings", json=finding(elsewhere["school_code"], unit=claimed_here), headers=inspector
    )
    assert refused.status_code == 403, refused.text
