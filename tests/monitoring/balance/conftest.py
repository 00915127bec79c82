"""Balanced development's fixtures: monitoring's engine, the seeded 2017 system, a county of schools on the
roster with their approved values (written as data collection writes them), and row counts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.ids import uuid7
from dudao.rectification.models import Rectification
from dudao.uow import UnitOfWork
from monitoring.balance.models import BalanceFinding, BalanceVerdict
from monitoring.collection import repository as values
from monitoring.collection.models import DataValue
from monitoring.db import kit
from monitoring.indicator.models import IndicatorSystem
from monitoring.roster.models import RosterSchool
from tests.conftest import random_school_code

YEAR = 2025
# Seven base elements and the 2017 primary and junior standards of the indicators computed from them.
BASES = [
    ("teachers_above_qualification", 100, 4.2, 5.3),
    ("key_teachers", 100, 1.0, 1.0),
    ("pe_arts_teachers", 100, 0.9, 0.9),
    ("teaching_floor_area", 1, 4.5, 5.8),
    ("sports_ground_area", 1, 7.5, 10.2),
    ("equipment_value", 1, 2000, 2500),
    ("multimedia_classrooms", 100, 2.3, 2.4),
]
COUNTY_ITEMS = [
    *(f"guarantee.2_{i}" for i in range(1, 16)),
    *(f"quality.3_{i}" for i in range(1, 10)),
]
VETOES = ["veto.exam_admission", "veto.irregular_choice", "veto.key_schools", "veto.recognition_below_bar"]


def at_standard(pupils: int, scale: float = 1.0, stage: str = "primary") -> dict[str, Decimal]:
    """A single-stage school's pupils and the base values putting each indicator at ``scale`` × its
    ``stage``'s standard."""
    at = 2 if stage == "primary" else 3
    found = {row[0]: Decimal(str(round(float(row[at]) * pupils * scale / row[1], 4))) for row in BASES}
    return {f"pupils_{stage}": Decimal(pupils), **found}


def county_items(**changes: float) -> dict[str, Decimal]:
    items = {code: Decimal(1) for code in COUNTY_ITEMS} | {code: Decimal(0) for code in VETOES}
    items["recognition.4_1"] = Decimal("0.9")
    return items | {k.replace("__", "."): Decimal(str(v)) for k, v in changes.items()}


@pytest.fixture
async def monitoring_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, application_name="tests-balance", schema=kit.schema)
    yield engine
    await engine.dispose()


@pytest.fixture
async def system_id(monitoring_engine: AsyncEngine) -> UUID:
    async with monitoring_engine.connect() as conn:
        found = await conn.scalar(
            select(IndicatorSystem.id)
            .where(IndicatorSystem.key == "balanced-2017")
            .order_by(IndicatorSystem.edition.desc())
            .limit(1)
        )
    assert found is not None, "the 2017 system is seeded"
    return found


Seed = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def seed(monitoring_engine: AsyncEngine, system_id: UUID) -> Seed:
    """``await seed(county, [(school columns, values)], items)``: schools on the roster and their approved
    values, and the county's approved items; the roster rows come back."""

    async def make(
        county: str,
        schools: list[tuple[Mapping[str, Any], Mapping[str, Decimal]]],
        items: Mapping[str, Decimal] | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            {
                "school_id": uuid7(),
                "school_code": random_school_code(),
                "name": f"均衡测试学校{secrets.token_hex(2)}",
                "school_type": "primary",
                "ownership": "public",
                "division_code": county,
                "enrolment": None,
                "pupils_primary": None,
                "pupils_junior": None,
                "pupils_senior": None,
                "teaching_point": False,
                "source_version": 1,
                "synced_at": datetime.now(UTC),
                **columns,
            }
            for columns, _ in schools
        ]
        approved = [
            (row["school_id"], "school", code, value)
            for row, (_, found) in zip(rows, schools, strict=True)
            for code, value in found.items()
        ]
        approved += [(county, "county", code, value) for code, value in (items or {}).items()]
        async with monitoring_engine.begin() as conn:
            await conn.execute(insert(RosterSchool), rows)
        async with session_factory(monitoring_engine)() as session:
            uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
            values.write_approved(
                uow,
                [
                    {
                        "system_id": system_id,
                        "unit_kind": kind,
                        "unit_id": str(unit),
                        "division_code": county,
                        "year": YEAR,
                        "element_code": code,
                        "value": value,
                        "submitted_by": "tests",
                    }
                    for unit, kind, code, value in approved
                ],
            )
            await uow.commit()
        return rows

    return make


Counts = Callable[[], Awaitable[dict[str, int]]]


@pytest.fixture
def counts(monitoring_engine: AsyncEngine) -> Counts:
    """Rows of every table an evaluation could write."""
    tables: dict[str, Any] = {
        "verdicts": BalanceVerdict,
        "findings": BalanceFinding,
        "values": DataValue,
        "roster": RosterSchool,
        "rectifications": Rectification,
        "outbox": kit.outbox,
        "audit": kit.audit_log,
    }

    async def take() -> dict[str, int]:
        async with monitoring_engine.connect() as conn:
            return {
                name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for name, t in tables.items()
            }

    return take
