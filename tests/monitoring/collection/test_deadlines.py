"""The collection clock: units that have not submitted are reminded once per reminder day, and get a
finding (at the school, or the county's government) when the deadline passes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.monitoring import CollectionDueSoon
from dudao.db import create_engine, session_factory
from dudao.uow import UnitOfWork
from monitoring.collection import service
from monitoring.db import kit
from tests.conftest import TokenFactory
from tests.monitoring.collection.conftest import (
    CITY,
    COUNTY,
    Schools,
    good_values,
    issue,
    school_person,
    task_body,
)

# The business date the services judge deadlines by (Asia/Shanghai), not the machine's.
TODAY = Clock().today()

Office = Callable[[str], dict[str, str]]


@pytest.fixture
async def monitoring_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """Monitoring's engine, with the kit's schemaless tables (findings) in its schema."""
    engine = create_engine(settings, application_name="tests-collection", schema=kit.schema)
    yield engine
    await engine.dispose()


async def _run(engine: AsyncEngine, job: Callable[[UnitOfWork, date], Any], today: date) -> int:
    async with session_factory(engine)() as session:
        uow = UnitOfWork(session, kit, "/tests", Clock())
        handled: int = await job(uow, today)
        await uow.commit()
    return handled


async def _reminders(engine: AsyncEngine, task_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.envelope).where(
                kit.outbox.c.type == CollectionDueSoon.event_type,
                kit.outbox.c.envelope["data"]["task_id"].astext == task_id,
            )
        )
        return [r["data"] for r in rows.scalars()]


async def _findings_of(
    monitoring: httpx.AsyncClient, headers: dict[str, str], unit_id: str, task_id: str
) -> list[dict[str, Any]]:
    """The unit's rectifications opened by the task's missed deadline, with their findings."""
    listed = await monitoring.get("/v1/rectifications", params={"unit_id": unit_id}, headers=headers)
    assert listed.status_code == 200, listed.text
    found = []
    for item in listed.json()["items"]:
        detail = (await monitoring.get(f"/v1/rectifications/{item['id']}", headers=headers)).json()
        if detail["finding"]["origin_ref"] == task_id:
            found.append(detail)
    return found


async def test_units_that_have_not_submitted_are_reminded_then_get_findings(
    monitoring: httpx.AsyncClient,
    office: Office,
    token: TokenFactory,
    system_id: UUID,
    schools: Schools,
    monitoring_engine: AsyncEngine,
) -> None:
    late, punctual = await schools(2)
    due = TODAY + timedelta(days=7)
    units = [late["school_code"], punctual["school_code"]]
    task = await issue(
        monitoring,
        office(COUNTY),
        task_body(system_id, units=units, due_on=due.isoformat(), remind_days=[7, 1]),
    )
    submitted = await monitoring.post(
        f"/v1/collection-tasks/{task['id']}/submissions",
        json={"values": good_values()},
        headers=school_person(token, punctual),
    )
    assert submitted.status_code == 201

    # A week before: the late school is reminded, once however often the job runs.
    assert await _run(monitoring_engine, service.remind, due - timedelta(days=7)) >= 1
    await _run(monitoring_engine, service.remind, due - timedelta(days=7))
    reminders = await _reminders(monitoring_engine, task["id"])
    assert [(r["unit_id"], r["days_before"]) for r in reminders] == [(str(late["school_id"]), 7)]
    await _run(monitoring_engine, service.remind, due - timedelta(days=1))
    assert len(await _reminders(monitoring_engine, task["id"])) == 2

    # The deadline passes: one finding, at the school that did not submit, once.
    await _run(monitoring_engine, service.notice_overdue, due + timedelta(days=1))
    await _run(monitoring_engine, service.notice_overdue, due + timedelta(days=1))
    [finding] = await _findings_of(monitoring, office(COUNTY), late["school_code"], task["id"])
    assert finding["finding"]["unit_kind"] == "school"
    assert finding["finding"]["category"] == "data_collection"
    theirs = await monitoring.get(f"/v1/rectifications/{finding['id']}", headers=school_person(token, late))
    assert theirs.status_code == 200
    assert await _findings_of(monitoring, office(COUNTY), punctual["school_code"], task["id"]) == []


async def test_a_county_that_misses_a_deadline_gets_a_finding_at_its_government(
    monitoring: httpx.AsyncClient, office: Office, system_id: UUID, monitoring_engine: AsyncEngine
) -> None:
    body = task_body(
        system_id,
        unit_kind="county",
        division_code=CITY,
        units=[COUNTY],
        elements=["guarantee.2_1", "guarantee.2_2"],
        rules=[],
        due_on=TODAY.isoformat(),
    )
    task = await issue(monitoring, office(CITY), body)
    await _run(monitoring_engine, service.notice_overdue, TODAY + timedelta(days=1))
    [finding] = await _findings_of(monitoring, office(CITY), f"gov-{COUNTY}", task["id"])
    assert finding["finding"]["unit_kind"] == "government"
    assert finding["finding"]["unit_name"].endswith("人民政府")
