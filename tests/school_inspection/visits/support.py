"""Builders for the visit, draw and cycle tests: schools, inspectors, visit bodies, row counts, moved time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import BUSINESS_TZ, clock
from dudao.db import session_factory
from dudao.rectification.models import Rectification
from dudao.uow import UnitOfWork
from school_inspection.cycle.models import Cycle, CycleSchool
from school_inspection.db import kit
from school_inspection.draw.models import Draw
from school_inspection.visit.models import RoutineItem, Visit, VisitItem, VisitPolicy, VisitsBehind
from tests.conftest import random_school_code
from tests.school_inspection.inspectors.support import appoint

Headers = dict[str, str]
TABLES = [Visit, VisitItem, VisitPolicy, VisitsBehind, Draw, Cycle, CycleSchool, Rectification]


@contextmanager
def time_moved(delta: timedelta) -> Iterator[None]:
    clock.advance(delta)
    try:
        yield
    finally:
        clock.advance(-delta)


def at(day: date, hour: int = 10) -> datetime:
    """That day at ``hour`` o'clock in Asia/Shanghai."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=BUSINESS_TZ)


def iso(instant: datetime) -> str:
    return instant.isoformat()


async def register_school(
    client: httpx.AsyncClient, office: Headers, division: str, **overrides: Any
) -> dict[str, Any]:
    body = {
        "school_code": random_school_code(),
        "name": "测试学校",
        "school_type": "primary",
        "ownership": "public",
        "division_code": division,
        "address": "人民路1号",
        "enrolment": 800,
        **overrides,
    }
    response = await client.post("/v1/schools", json=body, headers=office)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def new_inspector(
    client: httpx.AsyncClient, office: Headers, division: str, *, trained: bool = True
) -> str:
    """An inspector who may serve: appointed through the four steps and, by default, pre-service trained.
    Full-time, so no term runs out while a test moves time on."""
    inspector = await appoint(client, office, division, trained=trained, employment="full_time")
    inspector_id: str = inspector["id"]
    return inspector_id


async def recuse(client: httpx.AsyncClient, office: Headers, inspector_id: str, school_id: str) -> None:
    response = await client.post(
        f"/v1/inspectors/{inspector_id}/conflicts",
        json={"school_id": school_id, "kind": "near_relative", "description": "配偶任该校副校长"},
        headers=office,
    )
    assert response.status_code == 201, response.text


def observations(**problems: dict[str, Any]) -> list[dict[str, Any]]:
    """All eight routine items satisfactory, except those given (item value → observation fields)."""
    return [
        {"item": item.value, "result": "satisfactory", **problems.get(item.value, {})} for item in RoutineItem
    ]


def visit(school_id: str, inspector_ids: list[str], **overrides: Any) -> dict[str, Any]:
    """A routine, announced visit that ended a minute ago, by default."""
    ended = clock.now() - timedelta(minutes=1)
    return {
        "school_id": school_id,
        "kind": "routine",
        "announced": True,
        "inspector_ids": inspector_ids,
        "started_at": iso(ended - timedelta(hours=2)),
        "ended_at": iso(ended.astimezone(UTC)),
        "position": {"lat": 21.4811, "lon": 109.1203, "accuracy_m": 8.5},
        "items": observations(),
        **overrides,
    }


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = {
            model.__tablename__: (await conn.execute(select(func.count()).select_from(model))).scalar_one()
            for model in TABLES
        }
        rows["outbox"] = (await conn.execute(select(func.count()).select_from(kit.outbox))).scalar_one()
        rows["audit"] = (await conn.execute(select(func.count()).select_from(kit.audit_log))).scalar_one()
    return rows


def system_uow(engine: AsyncEngine) -> UnitOfWork:
    """A unit of work as the worker's: the system acts, in school-inspection's schema."""
    return UnitOfWork(session=session_factory(engine)(), kit=kit, source="/tests", clock=clock)


def assert_problem(response: httpx.Response, status: int, type_slug: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if type_slug is not None:
        assert response.json()["type"] == f"urn:dudao:problem:{type_slug}"
