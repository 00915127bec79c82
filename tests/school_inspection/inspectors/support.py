"""Builders for the inspector and zone tests: candidates, appointed inspectors, schools, row counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.db import kit
from school_inspection.inspector import models as inspector_models
from school_inspection.zone import models as zone_models
from tests.conftest import random_school_code

Headers = dict[str, str]
TABLES = [
    inspector_models.InspectionPolicy,
    inspector_models.Inspector,
    inspector_models.InspectorAppointmentStep,
    inspector_models.InspectorTerm,
    inspector_models.TrainingRecord,
    inspector_models.ConflictOfInterest,
    inspector_models.PerformanceReview,
    inspector_models.Assignment,
    zone_models.InspectionZone,
    zone_models.ZoneSchool,
]


def today() -> date:
    return clock.today()


def day(offset: int) -> str:
    return str(today() + timedelta(days=offset))


def candidate(division: str, **overrides: Any) -> dict[str, Any]:
    return {
        "division_code": division,
        "name": "李督学",
        "employment": "part_time",
        "degree": "bachelor",
        "education_work_years": 15,
        "contact_phone": "0774-3812345",
        "photo_url": "https://portal.example.org/photos/li.jpg",
        "recommendation": {"date": day(-60), "acted_by": "区教育局"},
        **overrides,
    }


async def recommend(
    client: httpx.AsyncClient, headers: Headers, division: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/v1/inspectors", json=candidate(division, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def step(
    client: httpx.AsyncClient, headers: Headers, inspector_id: str, name: str, offset: int = -30
) -> httpx.Response:
    return await client.post(
        f"/v1/inspectors/{inspector_id}/appointment-steps",
        json={"step": name, "date": day(offset), "acted_by": "督导办"},
        headers=headers,
    )


async def train(
    client: httpx.AsyncClient, headers: Headers, inspector_id: str, kind: str = "pre_service", hours: int = 24
) -> httpx.Response:
    response = await client.post(
        f"/v1/inspectors/{inspector_id}/training",
        json={"kind": kind, "title": "督学培训", "held_on": day(0), "class_hours": hours},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response


async def appoint(
    client: httpx.AsyncClient, headers: Headers, division: str, *, trained: bool = True, **overrides: Any
) -> dict[str, Any]:
    """An inspector through all four steps, announced 30 days ago; with pre-service training by default."""
    inspector = await recommend(client, headers, division, **overrides)
    for name, offset in (("review", -50), ("public_notice", -40), ("announcement", -30)):
        response = await step(client, headers, inspector["id"], name, offset)
        assert response.status_code == 201, response.text
    if trained:
        await train(client, headers, inspector["id"])
    body: dict[str, Any] = response.json()
    return body


async def school(
    client: httpx.AsyncClient, headers: Headers, division: str, enrolment: int = 800
) -> dict[str, Any]:
    response = await client.post(
        "/v1/schools",
        json={
            "school_code": random_school_code(),
            "name": "测试学校",
            "school_type": "primary",
            "ownership": "public",
            "division_code": division,
            "address": "新兴路1号",
            "enrolment": enrolment,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def assign(
    client: httpx.AsyncClient, headers: Headers, inspector_id: str, school_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/v1/assignments",
        json={"inspector_id": inspector_id, "school_id": school_id, **extra},
        headers=headers,
    )


async def counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows of every table these domains write, with the outbox and the audit log."""
    out = {}
    async with engine.connect() as conn:
        for table in [*(m.__table__ for m in TABLES), kit.outbox, kit.audit_log]:
            out[table.name] = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
    return out


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    slug: str = response.json()["type"]
    return slug.removeprefix("urn:dudao:problem:")
