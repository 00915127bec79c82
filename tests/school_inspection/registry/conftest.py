"""Shared helpers of the registry tests: offices of two counties, schools, and row counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from school_inspection.db import SCHEMA, kit
from tests.conftest import TokenFactory, bearer, random_school_code

COUNTY, OTHER_COUNTY = "450502", "450503"  # 海城区, 银海区 (Beihai)


def school_body(division: str = COUNTY, **overrides: Any) -> dict[str, Any]:
    return {
        "school_code": random_school_code(),
        "name": "北海市测试学校",
        "school_type": "primary",
        "ownership": "public",
        "division_code": division,
        "address": "北部湾中路1号",
        "enrolment": 800,
        **overrides,
    }


async def register(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/schools", json=school_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def counts(engine: AsyncEngine, *tables: str) -> tuple[int, ...]:
    """Rows in these inspection tables, then in the outbox and the audit log."""
    chosen = [table(t, schema=SCHEMA) for t in tables]
    async with engine.connect() as conn:
        return tuple(
            [
                (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in [*chosen, kit.outbox, kit.audit_log]
            ]
        )


def assert_problem(response: httpx.Response, status: int, type_slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    if type_slug:
        assert problem["type"] == f"urn:dudao:problem:{type_slug}"
    return problem


@pytest.fixture
def office(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=COUNTY))


@pytest.fixture
def other_office(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=OTHER_COUNTY))


@pytest.fixture
def inspector(token: TokenFactory) -> dict[str, str]:
    return bearer(token("inspector", division=COUNTY))
