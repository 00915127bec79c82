"""Monitoring reuses the kit's findings and rectifications: findings from evaluations, in its own schema."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitoring.db import kit
from school_inspection.db import kit as inspection_kit
from tests.conftest import TokenFactory, bearer, random_school_code

COUNTY, OTHER_COUNTY = "450105", "450108"  # 江南区, 良庆区


def finding_at_school(unit_id: str) -> dict[str, Any]:
    return {
        "unit": {
            "id": unit_id,
            "kind": "school",
            "name": "江南区实验学校",
            "division_code": COUNTY,
            "competent_department": "江南区教育局",
        },
        "origin_kind": "evaluation",
        "origin_ref": "quality-monitoring-2026",
        "category": "curriculum",
        "severity": "minor",
        "description": "体育课时未开足",
        "requirement": "按课程方案开足体育课时",
        "deadline": {"days": 30, "kind": "calendar"},
    }


async def outbox_types(engine: AsyncEngine, outbox: Any, rectification_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.type)
            .where(outbox.c.envelope["data"]["rectification_id"].astext == rectification_id)
            .order_by(outbox.c.seq)
        )
    return list(rows.scalars())


async def test_an_office_raises_a_finding_from_an_evaluation_at_a_school(
    monitoring: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    unit_id = random_school_code()

    response = await monitoring.post("/v1/findings", json=finding_at_school(unit_id), headers=office)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "open"

    listed = await monitoring.get("/v1/rectifications", params={"unit_id": unit_id}, headers=office)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    detail = await monitoring.get(f"/v1/rectifications/{created['id']}", headers=office)
    assert detail.status_code == 200, detail.text
    assert detail.json()["finding"]["origin_kind"] == "evaluation"

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await monitoring.get(f"/v1/rectifications/{created['id']}", headers=elsewhere)
    assert hidden.status_code == 404, hidden.text
    others = await monitoring.get("/v1/rectifications", params={"unit_id": unit_id}, headers=elsewhere)
    assert others.status_code == 200, others.text
    assert others.json()["items"] == []

    assert await outbox_types(engine, kit.outbox, created["id"]) == [
        "dudao.monitoring.rectification.opened.v1"
    ]
    assert await outbox_types(engine, inspection_kit.outbox, created["id"]) == []
