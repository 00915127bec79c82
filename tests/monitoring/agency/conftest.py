"""Agencies' fixtures: the seeded systems, an office, and a commission with its agency and key."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from monitoring.indicator.models import IndicatorSystem
from tests.conftest import TokenFactory, bearer

# The business date the services judge deadlines by (Asia/Shanghai), not the machine's.
TODAY = Clock().today()


CITY = "450100"  # 南宁市
COUNTY = "450102"  # 兴宁区
NEIGHBOUR = "450103"  # 青秀区, the same city
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

Make = Callable[..., Awaitable[dict[str, Any]]]


async def _newest(engine: AsyncEngine, key: str) -> UUID:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(IndicatorSystem.id)
            .where(IndicatorSystem.key == key)
            .order_by(IndicatorSystem.edition.desc())
        )
        return found.scalars().first()  # type: ignore[return-value]


@pytest.fixture
async def balanced(engine: AsyncEngine) -> UUID:
    return await _newest(engine, "balanced-2017")


@pytest.fixture
async def kindergarten(engine: AsyncEngine) -> UUID:
    return await _newest(engine, "kindergarten-quality-2022")


@pytest.fixture
def office(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=CITY))


def credit_code() -> str:
    return "".join(secrets.choice(_CREDIT_ALPHABET) for _ in range(18))


def agency_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "广西教育质量监测评估中心",
        "credit_code": credit_code(),
        "qualification_kind": "教育评估监测机构资质",
        "certificate_number": f"桂教评{secrets.token_hex(3)}",
        "qualification_valid_until": (TODAY + timedelta(days=900)).isoformat(),
        "contacts": [{"name": "李明华", "phone": "13812345678", "email": "liminghua@example.cn"}],
        **overrides,
    }


def commission_body(agency_id: str, system_id: UUID, **overrides: Any) -> dict[str, Any]:
    today = TODAY
    return {
        "agency_id": agency_id,
        "title": "兴宁区义务教育质量监测",
        "purchase_reference": f"NNCG-{secrets.token_hex(3)}",
        "system_ids": [str(system_id)],
        "divisions": [COUNTY],
        "starts_on": (today - timedelta(days=10)).isoformat(),
        "ends_on": (today + timedelta(days=60)).isoformat(),
        "deliverables": [
            {
                "kind": "quality_results",
                "title": "质量监测结果",
                "due_on": (today + timedelta(days=30)).isoformat(),
            },
            {"kind": "report", "title": "评估报告", "due_on": (today + timedelta(days=50)).isoformat()},
        ],
        **overrides,
    }


@pytest.fixture
def agency(monitoring: httpx.AsyncClient, office: dict[str, str]) -> Make:
    """``await agency()``: a registered agency, as read back."""

    async def make(**overrides: Any) -> dict[str, Any]:
        response = await monitoring.post("/v1/agencies", json=agency_body(**overrides), headers=office)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return make


@pytest.fixture
def commissioned(monitoring: httpx.AsyncClient, office: dict[str, str], agency: Make, balanced: UUID) -> Make:
    """``await commissioned()``: a new agency's commission and the key issued for it (``key``, ``auth``)."""

    async def make(**overrides: Any) -> dict[str, Any]:
        firm = await agency()
        created = await monitoring.post(
            "/v1/commissions", json=commission_body(firm["id"], balanced, **overrides), headers=office
        )
        assert created.status_code == 201, created.text
        commission: dict[str, Any] = created.json()
        issued = await monitoring.post(f"/v1/commissions/{commission['id']}/keys", json={}, headers=office)
        assert issued.status_code == 201, issued.text
        key = issued.json()
        return {**commission, "agency": firm, "key": key, "auth": {"X-API-Key": key["key"]}}

    return make
