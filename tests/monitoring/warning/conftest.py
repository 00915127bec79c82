"""Early warning's fixtures: monitoring's engine (kit tables in its schema), the seeded 2017 system, schools
on the roster, and approved values written as data collection writes them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from monitoring.collection import repository as values
from monitoring.db import kit
from monitoring.indicator.models import IndicatorSystem
from monitoring.roster.models import RosterSchool
from tests.conftest import random_school_code

Values = Mapping[str, int | str | Decimal]
PutValues = Callable[[UUID, int, str, Mapping[str, Values]], Awaitable[None]]


@pytest.fixture
async def monitoring_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, application_name="tests-warning", schema=kit.schema)
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


@pytest.fixture
def roster(monitoring_engine: AsyncEngine) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """``await roster(3, county)``: schools on monitoring's roster, as school-inspection's events put them."""

    async def make(count: int, county: str, **columns: Any) -> list[dict[str, Any]]:
        rows = [
            {
                "school_id": uuid7(),
                "school_code": random_school_code(),
                "name": f"预警测试学校{secrets.token_hex(2)}",
                "school_type": "primary",
                "ownership": "public",
                "division_code": county,
                "source_version": 1,
                "synced_at": datetime.now(UTC),
                **columns,
            }
            for _ in range(count)
        ]
        async with monitoring_engine.begin() as conn:
            await conn.execute(insert(RosterSchool), rows)
        return rows

    return make


@pytest.fixture
def put_values(monitoring_engine: AsyncEngine) -> PutValues:
    """``await put_values(system_id, year, county, {school_id: {code: value}})``: approved school values."""

    async def put(system_id: UUID, year: int, county: str, by_unit: Mapping[str, Values]) -> None:
        async with session_factory(monitoring_engine)() as session:
            uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
            values.write_approved(
                uow,
                [
                    {
                        "system_id": system_id,
                        "unit_kind": "school",
                        "unit_id": unit_id,
                        "division_code": county,
                        "year": year,
                        "element_code": code,
                        "value": Decimal(value),
                        "submitted_by": "tests",
                    }
                    for unit_id, elements in by_unit.items()
                    for code, value in elements.items()
                ],
            )
            await uow.commit()

    return put
