"""Data collection's fixtures: the seeded 2017 system, schools on monitoring's roster, and its clients."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.ids import uuid7
from monitoring.collection.models import Submission, SubmittedValue
from monitoring.indicator.models import IndicatorSystem
from monitoring.roster.models import RosterSchool
from tests.conftest import TokenFactory, bearer, random_school_code

# The business date the services judge deadlines by (Asia/Shanghai), not the machine's.
TODAY = Clock().today()


CITY = "450100"  # 南宁市
COUNTY = "450102"  # 兴宁区
NEIGHBOUR = "450103"  # 青秀区, the same city
OTHER_CITY_COUNTY = "450202"  # 柳州市城中区
YEAR = 2025
SCHOOL_ELEMENTS = [
    "pupils_primary",
    "pupils_junior",
    "teachers_above_qualification",
    "key_teachers",
    "teaching_floor_area",
]

Schools = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
async def system_id(engine: AsyncEngine) -> UUID:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(IndicatorSystem.id)
            .where(IndicatorSystem.key == "balanced-2017")
            .order_by(IndicatorSystem.edition.desc())
        )
        return found.scalars().first()  # type: ignore[return-value]


@pytest.fixture
def schools(engine: AsyncEngine) -> Schools:
    """``await schools(3, county)``: new schools on monitoring's roster (as school-inspection's events put
    them there), as rows."""

    async def make(count: int, county: str = COUNTY) -> list[dict[str, Any]]:
        rows = [
            {
                "school_id": uuid7(),
                "school_code": random_school_code(),
                "name": f"测试学校{secrets.token_hex(2)}",
                "school_type": "nine_year",
                "ownership": "public",
                "division_code": county,
                "source_version": 1,
                "synced_at": datetime.now(UTC),
            }
            for _ in range(count)
        ]
        async with engine.begin() as conn:
            await conn.execute(insert(RosterSchool), rows)
        return rows

    return make


@pytest.fixture
def office(token: TokenFactory) -> Callable[[str], dict[str, str]]:
    return lambda division: bearer(token("supervision_office", division=division))


def school_person(token: TokenFactory, school: dict[str, Any]) -> dict[str, str]:
    return bearer(token("supervised_unit", division=school["division_code"], org=school["school_code"]))


def task_body(system_id: UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "system_id": str(system_id),
        "name": "2025年度优质均衡发展数据采集",
        "year": YEAR,
        "unit_kind": "school",
        "elements": SCHOOL_ELEMENTS,
        "due_on": (TODAY + timedelta(days=20)).isoformat(),
        "rules": [
            {"kind": "required", "element": "pupils_primary"},
            {"kind": "range", "element": "teaching_floor_area", "maximum": 500000},
            {
                "kind": "compare",
                "element": "key_teachers",
                "operator": "<=",
                "right_element": "teachers_above_qualification",
            },
        ],
        **overrides,
    }


async def issue(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/collection-tasks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def good_values(**overrides: Any) -> dict[str, Any]:
    return {
        "pupils_primary": 1200,
        "pupils_junior": 600,
        "teachers_above_qualification": 80,
        "key_teachers": 20,
        "teaching_floor_area": 12000.5,
        **overrides,
    }


async def counts(engine: AsyncEngine, task_id: str) -> tuple[int, int]:
    """Submissions and values of a task: what a refused request must leave as it was."""
    async with engine.connect() as conn:
        submissions = await conn.scalar(
            select(func.count()).select_from(Submission).where(Submission.task_id == UUID(task_id))
        )
        values = await conn.scalar(
            select(func.count())
            .select_from(SubmittedValue)
            .join(Submission, Submission.id == SubmittedValue.submission_id)
            .where(Submission.task_id == UUID(task_id))
        )
    return submissions or 0, values or 0


_CREDIT = "0123456789ABCDEFGHJKLMNPQRTUWXY"


async def agency_key(
    monitoring: httpx.AsyncClient,
    headers: dict[str, str],
    system_id: UUID,
    divisions: list[str],
    unit_ids: list[str] | None = None,
) -> dict[str, str]:
    """An agency registered and commissioned by the office of ``headers`` to assess ``system_id`` in
    ``divisions`` (only ``unit_ids``, if given), and its commission's API key as a request header."""
    agency = await monitoring.post(
        "/v1/agencies",
        json={
            "name": f"广西教育评估院{secrets.token_hex(2)}",
            "credit_code": "".join(secrets.choice(_CREDIT) for _ in range(18)),
            "qualification_kind": "教育评估",
            "certificate_number": f"GX-{secrets.token_hex(3)}",
            "qualification_valid_until": (TODAY + timedelta(days=700)).isoformat(),
            "contacts": [{"name": "李老师", "phone": "0771-5551234"}],
        },
        headers=headers,
    )
    assert agency.status_code == 201, agency.text
    commission = await monitoring.post(
        "/v1/commissions",
        json={
            "agency_id": agency.json()["id"],
            "title": "义务教育优质均衡发展数据采集与评估",
            "purchase_reference": f"GXCG-{secrets.token_hex(3)}",
            "system_ids": [str(system_id)],
            "divisions": divisions,
            "unit_ids": unit_ids or [],
            "starts_on": (TODAY - timedelta(days=1)).isoformat(),
            "ends_on": (TODAY + timedelta(days=300)).isoformat(),
            "deliverables": [
                {
                    "kind": "data",
                    "title": "学校数据",
                    "due_on": (TODAY + timedelta(days=60)).isoformat(),
                }
            ],
        },
        headers=headers,
    )
    assert commission.status_code == 201, commission.text
    key = await monitoring.post(f"/v1/commissions/{commission.json()['id']}/keys", json={}, headers=headers)
    assert key.status_code == 201, key.text
    return {"X-API-Key": key.json()["key"]}
