"""Principals' and inspectors' phones and e-mails: sealed at rest, masked for the roles that do not need
them, in full for those that do, and every read in full audited. The migration seals the rows it finds."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import asyncpg
import httpx
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.encryption import field_cipher
from dudao.migrations import alembic_config
from school_inspection.db import kit
from tests.conftest import TokenFactory, bearer, random_school_code
from tests.school_inspection.inspectors.support import candidate

COUNTY = "450481"  # 岑溪市
PHONE, EMAIL = "13977412345", "li.ming@jyj.example.org"


async def audited(engine: AsyncEngine, action: str, record_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            # A read of several records is one entry naming them all.
            select(kit.audit_log.c.actor, kit.audit_log.c.details).where(
                kit.audit_log.c.action == action, kit.audit_log.c.details["records"].contains([record_id])
            )
        )
    return [{"actor": r.actor, **r.details} for r in rows]


async def stored(engine: AsyncEngine, sql: str, **params: Any) -> dict[str, Any]:
    async with engine.connect() as conn:
        return dict((await conn.execute(text(sql), params)).mappings().one())


async def test_an_inspectors_contacts_are_sealed_masked_for_inspectors_and_audited_for_offices(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, settings: Settings
) -> None:
    office = bearer(token("supervision_office", division=COUNTY, sub=f"office-{secrets.token_hex(3)}"))
    peer = bearer(token("inspector", division=COUNTY))
    body = candidate(COUNTY, contact_phone=PHONE, contact_email=EMAIL)
    created = await inspection.post("/v1/inspectors", json=body, headers=office)
    assert created.status_code == 201, created.text
    inspector_id = created.json()["id"]

    row = await stored(engine, "SELECT * FROM inspection.inspector WHERE id = :id", id=inspector_id)
    assert "contact_phone" not in row
    assert "contact_email" not in row
    assert PHONE not in row["contact_phone_sealed"]
    assert EMAIL not in row["contact_email_sealed"]
    cipher = field_cipher(settings)
    context = "inspection.inspector.contact_phone"
    assert cipher.decrypt(row["contact_phone_sealed"], context=context) == PHONE

    masked = (await inspection.get(f"/v1/inspectors/{inspector_id}", headers=peer)).json()
    assert (masked["contact_phone"], masked["contact_email"], masked["contacts_masked"]) == (
        "139****2345",
        "l***@jyj.example.org",
        True,
    )
    assert await audited(engine, "inspector.contacts_read", inspector_id) == []

    full = (await inspection.get(f"/v1/inspectors/{inspector_id}", headers=office)).json()
    assert (full["contact_phone"], full["contact_email"], full["contacts_masked"]) == (PHONE, EMAIL, False)
    listed = await inspection.get("/v1/inspectors", params={"within": COUNTY, "limit": 200}, headers=office)
    assert [i["contact_phone"] for i in listed.json()["items"] if i["id"] == inspector_id] == [PHONE]
    reads = await audited(engine, "inspector.contacts_read", inspector_id)
    assert sorted(r["via"] for r in reads) == ["detail", "list"]

    changed = await inspection.patch(
        f"/v1/inspectors/{inspector_id}",
        json={"contact_phone": "13977400000"},
        headers={**office, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_phone"] == "13977400000"
    again = await stored(engine, "SELECT * FROM inspection.inspector WHERE id = :id", id=inspector_id)
    assert cipher.decrypt(again["contact_phone_sealed"], context=context) == "13977400000"


async def test_a_principals_phone_is_sealed_and_shown_in_full_only_to_offices_and_inspectors(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    code = random_school_code()
    school = {
        "school_code": code,
        "name": "岑溪市测试小学",
        "school_type": "primary",
        "ownership": "public",
        "division_code": COUNTY,
        "address": "岑城镇1号",
        "principal": {"name": "梁校长", "phone": PHONE},
    }
    created = await inspection.post("/v1/schools", json=school, headers=office)
    assert created.status_code == 201, created.text
    school_id = created.json()["id"]
    row = await stored(engine, "SELECT * FROM inspection.school WHERE id = :id", id=school_id)
    assert "principal_phone" not in row
    assert PHONE not in row["principal_phone_sealed"]

    staff = bearer(token("supervised_unit", division=COUNTY, org=code))
    inspector = bearer(token("inspector", division=COUNTY))
    as_staff = (await inspection.get(f"/v1/schools/{school_id}", headers=staff)).json()
    assert (as_staff["principal"], as_staff["contacts_masked"]) == (
        {"name": "梁校长", "phone": "139****2345"},
        True,
    )
    assert await audited(engine, "school.principal_read", school_id) == []
    as_inspector = (await inspection.get(f"/v1/schools/{school_id}", headers=inspector)).json()
    assert as_inspector["principal"]["phone"] == PHONE
    assert [r["via"] for r in await audited(engine, "school.principal_read", school_id)] == ["detail"]

    exported = await inspection.get("/v1/schools/export", params={"within": COUNTY}, headers=staff)
    assert "139****2345" in exported.text
    assert PHONE not in exported.text
    by_office = await inspection.get("/v1/schools/export", params={"within": COUNTY}, headers=office)
    assert PHONE in by_office.text

    chosen = {
        "inspector_name": "陈督学",
        "photo_url": "https://jyj.example.org/photos/chen.jpg",
        "contact_phone": "13977900099",
        "items": ["administration"],
        "published": False,
    }
    put = await inspection.put(f"/v1/schools/{school_id}/plate", json=chosen, headers=office)
    assert put.status_code == 201, put.text
    plate = await stored(engine, "SELECT * FROM inspection.plate WHERE school_id = :id", id=school_id)
    assert "13977900099" not in plate["contact_phone_sealed"]
    shown = await inspection.get(f"/v1/schools/{school_id}/plate", headers=inspector)
    assert shown.json()["contact_phone"] == "13977900099"  # what the plate publishes


async def test_the_migration_seals_the_plaintext_it_finds(own_database: str) -> None:
    """Back to the plaintext columns, a row as it was stored then, and up again: sealed, and it opens."""
    config = alembic_config("school_inspection:migrations", own_database)
    await asyncio.to_thread(command.downgrade, config, "0010_keyed_audit")
    conn = await asyncpg.connect(own_database)
    try:
        assert await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'inspection' "
            "AND table_name = 'school' AND column_name = 'principal_phone'"
        )
        school_id = await conn.fetchval(
            "INSERT INTO inspection.school (id, school_code, name, school_type, ownership, division_code,"
            " address, enrolment, teaching_point, principal_name, principal_phone, version, created_at,"
            " updated_at) VALUES (gen_random_uuid(), $1, '岑溪市旧小学', 'primary', 'public', $2, '旧址',"
            " 0, false, '黄校长', $3, 1, now(), now()) RETURNING id",
            random_school_code(),
            COUNTY,
            PHONE,
        )
        await asyncio.to_thread(command.upgrade, config, "heads")
        sealed = await conn.fetchval(
            "SELECT principal_phone_sealed FROM inspection.school WHERE id = $1", school_id
        )
    finally:
        await conn.close()
    assert PHONE not in sealed
    cipher = field_cipher(Settings(environment="test"))
    assert cipher.decrypt(sealed, context="inspection.school.principal_phone") == PHONE
