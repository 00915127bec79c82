"""Governance reuses the kit's findings and rectifications: findings at registered governments and
departments, in its own schema."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.db import kit
from school_inspection.db import kit as inspection_kit
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import government_of, register_department

COUNTY, OTHER_COUNTY = "450105", "450108"  # 江南区, 良庆区


def finding_at_government(unit_id: str) -> dict[str, Any]:
    return {
        "unit": {"id": unit_id, "kind": "government", "name": "江南区人民政府", "division_code": COUNTY},
        "origin_kind": "supervision",
        "origin_ref": "duty-evaluation-2026",
        "category": "funding",
        "severity": "major",
        "description": "教育经费未按规定足额拨付",
        "requirement": "补足拨付并建立经费保障机制",
        "deadline": {"days": 60, "kind": "calendar"},
    }


async def outbox_types(engine: AsyncEngine, outbox: Any, rectification_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.type)
            .where(outbox.c.envelope["data"]["rectification_id"].astext == rectification_id)
            .order_by(outbox.c.seq)
        )
    return list(rows.scalars())


async def test_an_office_raises_a_finding_at_a_county_government(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    unit_id = (await government_of(governance, office, COUNTY))["id"]

    response = await governance.post("/v1/findings", json=finding_at_government(unit_id), headers=office)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "open"
    assert response.headers["Location"] == f"/v1/rectifications/{created['id']}"

    listed = await governance.get("/v1/rectifications", params={"unit_id": unit_id}, headers=office)
    assert listed.status_code == 200, listed.text
    # The county's one government is shared with other tests' findings: this one is among its own.
    assert created["id"] in [item["id"] for item in listed.json()["items"]]
    assert {item["unit_id"] for item in listed.json()["items"]} == {unit_id}
    detail = await governance.get(f"/v1/rectifications/{created['id']}", headers=office)
    assert detail.status_code == 200, detail.text
    assert detail.json()["finding"]["unit_kind"] == "government"
    assert detail.json()["finding"]["unit_name"] == f"{COUNTY}人民政府"  # the registered name, not the body's

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await governance.get(f"/v1/rectifications/{created['id']}", headers=elsewhere)
    assert hidden.status_code == 404, hidden.text
    others = await governance.get("/v1/rectifications", params={"unit_id": unit_id}, headers=elsewhere)
    assert others.status_code == 200, others.text
    assert others.json()["items"] == []

    assert await outbox_types(engine, kit.outbox, created["id"]) == [
        "dudao.governance.rectification.opened.v1"
    ]
    assert await outbox_types(engine, inspection_kit.outbox, created["id"]) == []


async def test_governance_keeps_its_own_evidence_and_its_findings_name_it(
    governance: httpx.AsyncClient, inspection: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    photo = {"file": ("经费拨付凭证.pdf", b"%PDF-1.7 receipt", "application/pdf")}
    ours = await governance.post("/v1/evidence", headers=office, files=photo)
    assert ours.status_code == 201, ours.text
    theirs = await inspection.post("/v1/evidence", headers=office, files=photo)
    assert theirs.status_code == 201, theirs.text

    department = await register_department(governance, office, COUNTY)
    body = finding_at_government(department["id"])
    named = await governance.post(
        "/v1/findings", json={**body, "evidence_ids": [ours.json()["id"]]}, headers=office
    )
    assert named.status_code == 201, named.text
    # Evidence uploaded to school inspection is in its schema, not one governance can name.
    foreign = await governance.post(
        "/v1/findings", json={**body, "evidence_ids": [theirs.json()["id"]]}, headers=office
    )
    assert foreign.status_code == 422
    assert foreign.json()["type"] == "urn:dudao:problem:unknown-evidence"
    downloaded = await governance.get(f"/v1/evidence/{ours.json()['id']}", headers=office)
    assert downloaded.content == b"%PDF-1.7 receipt"
