"""The audit log: every write recorded and sealed into a hash chain; verify names the first broken link."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao import audit
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.http.app import create_service_app
from school_inspection.db import kit
from school_inspection.main import spec
from tests.conftest import TokenFactory, bearer, random_school_code, serve


def _school(**overrides: Any) -> dict[str, Any]:
    return {
        "school_code": random_school_code(),
        "name": "审计测试学校",
        "school_type": "junior",
        "ownership": "private",
        "division_code": "450103",
        "address": "青秀路2号",
        **overrides,
    }


def _verify_cli() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dudao.cli", "audit", "verify", "--schema", "inspection"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
        check=False,
    )


async def _seal(engine: AsyncEngine) -> int:
    """Seal until nothing is left, as the worker's draining job does."""
    total = 0
    while True:
        async with session_factory(engine)() as session, session.begin():
            sealed = await audit.seal(session, kit.audit_log, kit.audit_lock_key)
        if not sealed:
            return total
        total += sealed


async def test_every_write_is_audited_with_who_when_where_and_request(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division="450103", sub="official-7"))
    response = await inspection.post(
        "/v1/schools",
        json=_school(),
        headers={**office, "X-Request-ID": "req-audit-1", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 201
    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(kit.audit_log).where(kit.audit_log.c.request_id == "req-audit-1")))
            .mappings()
            .one()
        )
    assert row["actor"] == "official-7"
    assert row["actor_kind"] == "person"
    assert row["action"] == "school.registered"
    assert row["record_id"] == response.json()["id"]
    assert row["division_code"] == "450103"
    assert row["source_address"] == "203.0.113.9"


async def test_the_audit_log_refuses_edits_and_deletes(engine: AsyncEngine) -> None:
    await _seal(engine)
    for statement in (
        "UPDATE inspection.audit_log SET actor = 'someone else'",
        "UPDATE inspection.audit_log SET hash = repeat('0', 64) WHERE chain_seq IS NOT NULL",
        "DELETE FROM inspection.audit_log",
    ):
        async with engine.connect() as conn:
            with pytest.raises(Exception, match="append-only"):
                await conn.execute(text(statement))


async def test_concurrent_writers_are_sealed_into_one_gapless_chain(
    own_database: str, settings: Settings, token: TokenFactory
) -> None:
    # A database of its own: the chain verified is the whole log, so only this test's entries may be in it.
    own = settings.model_copy(update={"database_url": SecretStr(own_database)})
    office = bearer(token("supervision_office", division="450103"))
    engine = create_engine(own, application_name="tests", pool_size=2)
    try:
        async with serve(create_service_app(spec, own)) as inspection:
            results = await asyncio.gather(
                *(inspection.post("/v1/schools", json=_school(), headers=office) for _ in range(20))
            )
        assert all(r.status_code == 201 for r in results)
        # Two sealers at once take turns on the chain.
        await asyncio.gather(_seal(engine), _seal(engine))
        async with engine.connect() as conn:
            result = await audit.verify(conn, kit.audit_log)
    finally:
        await engine.dispose()
    assert (result.broken, result.unsealed, result.checked) == (None, 0, 20)


async def test_verify_names_the_first_edited_or_deleted_entry(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division="450103"))
    for _ in range(3):
        assert (await inspection.post("/v1/schools", json=_school(), headers=office)).status_code == 201
    await _seal(engine)
    intact = _verify_cli()
    assert intact.returncode == 0, intact.stderr
    assert "inspection: intact" in intact.stdout

    async with engine.begin() as conn:
        last = (
            await conn.execute(
                select(kit.audit_log.c.chain_seq).order_by(kit.audit_log.c.chain_seq.desc()).limit(1)
            )
        ).scalar_one()
        # Only a superuser disabling the trigger can edit the log; the chain still tells.
        await conn.execute(text("ALTER TABLE inspection.audit_log DISABLE TRIGGER audit_log_append_only"))
        await conn.execute(
            text("UPDATE inspection.audit_log SET actor = 'forger' WHERE chain_seq = :c"), {"c": last - 1}
        )
    try:
        edited = _verify_cli()
        assert edited.returncode == 1
        assert f"BROKEN at entry {last - 1}" in edited.stdout
        assert "edited" in edited.stdout
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM inspection.audit_log WHERE chain_seq = :c"), {"c": last - 1})
        deleted = _verify_cli()
        assert deleted.returncode == 1
        assert f"BROKEN at entry {last - 1}" in deleted.stdout
        assert "missing" in deleted.stdout
    finally:
        async with engine.begin() as conn:
            # Restore a valid chain for the tests that follow: drop the tampered tail.
            await conn.execute(
                text("DELETE FROM inspection.audit_log WHERE chain_seq >= :c"), {"c": last - 1}
            )
            await conn.execute(text("ALTER TABLE inspection.audit_log ENABLE TRIGGER audit_log_append_only"))
