"""The audit log: every write recorded, MAC'd and sealed into a keyed chain, checkpointed outside the
database; verify names the first broken link, whatever a database superuser did."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from pydantic import SecretStr
from sqlalchemy import Executable, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao import audit
from dudao.clock import Clock
from dudao.config import DEV_AUDIT_KEY, DEVELOPMENT_SECRETS, ConfigurationError, Settings
from dudao.contracts.audit import checkpoint_subject
from dudao.db import create_engine, session_factory
from dudao.events.nats import connect
from dudao.events.relay import OutboxRelay
from dudao.events.worker import checkpoint_audit_log
from dudao.http.app import create_service_app
from dudao.ids import uuid7
from dudao.scheduler import Scheduler
from dudao.uow import UnitOfWork
from school_inspection.db import kit
from school_inspection.main import spec
from tests.conftest import TokenFactory, bearer, random_school_code, serve

AUDIT = kit.audit_log
TRUNCATE = text("TRUNCATE inspection.audit_log")
# The deployment's key in these tests: not the development one, which a forger may well know.
KEYS = audit.AuditKeys("k2", {"k2": b"the-deployment's-audit-key", "k1": b"a-retired-audit-key"})


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


def _verify_cli(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dudao.cli", "audit", "verify", "--schema", "inspection"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=180,
        check=False,
    )


async def _seal(engine: AsyncEngine, keys: audit.AuditKeys) -> int:
    """Seal until nothing is left, as the worker's draining job does."""
    total = 0
    while True:
        async with session_factory(engine)() as session, session.begin():
            sealed = await audit.seal(session, kit.audit_log, kit.audit_lock_key, keys)
        if not sealed:
            return total
        total += sealed


@dataclass
class Log:
    """The inspection audit log of a database of a test's own, its checkpoint folder and the stream."""

    engine: AsyncEngine
    settings: Settings
    nats: Client

    async def write(self, n: int, keys: audit.AuditKeys = KEYS) -> None:
        """``n`` entries, as a service writes them."""
        async with session_factory(self.engine)() as session:
            uow = UnitOfWork(session, kit, spec.event_source, Clock(), audit_keys=keys)
            for i in range(n):
                uow.record("school.registered", "school", uuid7(), "450103", name=f"学校{i}", n=i)
            await uow.commit()

    async def seal(self, keys: audit.AuditKeys = KEYS) -> int:
        return await _seal(self.engine, keys)

    async def checkpoint(self, *, publish: bool = False) -> int:
        """Run the worker's checkpoint job once; with ``publish``, relay the outbox to the stream."""
        job = checkpoint_audit_log(spec.name, self.settings)
        sessions = session_factory(self.engine)
        made = await Scheduler(sessions, kit, [job], spec.event_source, Clock(), self.settings).run_once(job)
        if publish:
            await OutboxRelay(self.engine, kit, self.nats.jetstream(), self.settings).publish_batch()
        return made

    async def verify(self, *, stream: bool = True) -> audit.Verification:
        async with self.engine.connect() as conn:
            return await audit.verify_log(
                conn,
                kit.audit_log,
                KEYS,
                self.settings.audit_checkpoint_root,
                self.nats.jetstream() if stream else None,
                lambda log: checkpoint_subject(spec.name, log),
            )

    async def as_superuser(self, *statements: Executable) -> None:
        """What only a superuser can do to the log: with its triggers off."""
        async with self.engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                await conn.execute(statement)

    async def rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(kit.audit_log).order_by(kit.audit_log.c.seq))).mappings())


@pytest.fixture
async def log(own_database: str, settings: Settings, tmp_path: Path) -> AsyncIterator[Log]:
    own = settings.model_copy(
        update={
            "database_url": SecretStr(own_database),
            "audit_checkpoint_dir": tmp_path / "audit",
            "audit_key_id": KEYS.key_id,
            "audit_key": SecretStr(KEYS.keys[KEYS.key_id].decode()),
            "audit_retired_keys": {"k1": SecretStr(KEYS.keys["k1"].decode())},
        }
    )
    engine = create_engine(own, application_name="tests", pool_size=2)
    nc = await connect(settings.nats_url or "", "tests-audit")
    try:
        yield Log(engine, own, nc)
    finally:
        await nc.close()
        await engine.dispose()


# ---- what a service writes


async def test_every_write_is_audited_with_who_when_where_and_request(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, settings: Settings
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
    assert row["source_address"] == "203.0.113.9"  # from a trusted proxy (the tests' settings trust 127/8)
    # MAC'd as it was written, with the service's key, which names itself.
    assert row["entry_id"] is not None
    assert row["entry_mac"].startswith(f"{settings.audit_key_id}:")


async def test_the_audit_log_refuses_edits_deletes_and_truncation(
    engine: AsyncEngine, settings: Settings
) -> None:
    await _seal(engine, audit.AuditKeys.from_settings(settings))
    for statement in (
        update(AUDIT).values(actor="someone else"),
        update(AUDIT).where(AUDIT.c.chain_seq.is_not(None)).values(mac="0" * 64),
        delete(AUDIT),
        TRUNCATE,  # a statement trigger: row triggers never see a TRUNCATE
    ):
        async with engine.connect() as conn:  # rolled back in any case
            with pytest.raises(Exception, match="append-only"):
                await conn.execute(statement)


async def test_concurrent_writers_are_sealed_into_one_gapless_chain(
    own_database: str, settings: Settings, token: TokenFactory
) -> None:
    # A database of its own: the chain verified is the whole log, so only this test's entries may be in it.
    own = settings.model_copy(update={"database_url": SecretStr(own_database)})
    keys = audit.AuditKeys.from_settings(own)
    office = bearer(token("supervision_office", division="450103"))
    engine = create_engine(own, application_name="tests", pool_size=2)
    try:
        async with serve(create_service_app(spec, own)) as inspection:
            results = await asyncio.gather(
                *(inspection.post("/v1/schools", json=_school(), headers=office) for _ in range(20))
            )
        assert all(r.status_code == 201 for r in results)
        # Two sealers at once take turns on the chain.
        await asyncio.gather(_seal(engine, keys), _seal(engine, keys))
        async with engine.connect() as conn:
            result = await audit.verify(conn, kit.audit_log, keys)
    finally:
        await engine.dispose()
    assert (result.broken, result.unsealed, result.checked) == (None, 0, 20)


# ---- what a superuser might do, and what verify says


async def test_verify_names_the_first_edited_or_deleted_entry(log: Log) -> None:
    await log.write(5)
    await log.seal()
    assert (await log.verify()).broken is None

    await log.as_superuser(update(AUDIT).where(AUDIT.c.chain_seq == 3).values(actor="forger"))
    edited = await log.verify()
    assert edited.broken is not None
    assert (edited.broken.chain_seq, edited.checked) == (3, 2)
    assert "edited" in edited.broken.reason

    await log.as_superuser(delete(AUDIT).where(AUDIT.c.chain_seq == 3))
    deleted = await log.verify()
    assert deleted.broken is not None
    assert deleted.broken.chain_seq == 3
    assert "missing" in deleted.broken.reason


async def test_an_edit_re_maced_without_the_key_fails(log: Log) -> None:
    await log.write(4)
    await log.seal()
    rows = await log.rows()
    # The forger edits entry 2 and recomputes every MAC after it, as the code does, with a key of their own
    # that they give the deployment's key id.
    guess = audit.AuditKeys(KEYS.key_id, {KEYS.key_id: b"a guessed key"})
    prev = rows[0]["mac"]
    statements = []
    for row in rows[1:]:
        changed = {**row, "actor": "forger"} if row["chain_seq"] == 2 else dict(row)
        entry = audit._entry(changed)
        entry_mac = guess.mac(audit._entry_message("inspection", entry))
        mac = guess.mac(audit._link_message("inspection", row["chain_seq"], prev, entry, entry_mac))
        statements.append(
            update(AUDIT)
            .where(AUDIT.c.seq == row["seq"])
            .values(actor=changed["actor"], entry_mac=entry_mac, prev_mac=prev, mac=mac)
        )
        prev = mac
    await log.as_superuser(*statements)
    result = await log.verify()
    assert result.broken is not None
    assert (result.broken.chain_seq, result.checked) == (2, 1)
    assert "without the key" in result.broken.reason


async def test_a_forged_insert_is_named_before_and_after_sealing(log: Log) -> None:
    await log.write(3)
    await log.seal()
    # A row that looks like the others, with an entry MAC copied from a genuine one.
    genuine = (await log.rows())[0]
    await log.as_superuser(
        insert(AUDIT).values(
            occurred_at=datetime.now(UTC),
            actor="official-7",
            actor_kind="person",
            action="school.registered",
            record_type="school",
            record_id=str(uuid7()),
            entry_id=uuid7(),
            entry_mac=genuine["entry_mac"],
        )
    )
    forged_seq = (await log.rows())[-1]["seq"]
    unsealed = await log.verify()
    assert unsealed.broken is not None
    assert (unsealed.broken.chain_seq, unsealed.broken.seq) == (None, forged_seq)
    assert "forged insert" in unsealed.broken.reason

    # The sealer chains it where it is, so that it can be neither dropped nor hidden, and verify names it.
    await log.write(1)
    assert await log.seal() == 2
    sealed = await log.verify()
    assert sealed.broken is not None
    assert (sealed.broken.chain_seq, sealed.broken.seq, sealed.checked) == (4, forged_seq, 3)
    assert "not written by a service" in sealed.broken.reason


async def test_deleting_the_newest_entries_is_caught_by_the_checkpoint(log: Log) -> None:
    await log.write(5)
    await log.seal()
    assert await log.checkpoint() == 1
    assert await log.checkpoint() == 0  # the head has not moved: nothing new to checkpoint
    async with session_factory(log.engine)() as session:
        # A quiet log is checkpointed again a day on, so that the stream (which ages messages out) has it.
        later = datetime.now(UTC) + audit.CHECKPOINT_REFRESH
        again = await audit.checkpoint(session, AUDIT, KEYS, log.settings.audit_checkpoint_root, later)
    assert again is not None
    assert (again.count, again.at) == (5, later)
    # The tail goes, and the chain that is left is a valid chain.
    await log.as_superuser(delete(AUDIT).where(AUDIT.c.chain_seq > 3))
    result = await log.verify(stream=False)
    assert result.broken is not None
    assert (result.checked, result.broken.chain_seq) == (3, 4)
    assert "counted 5" in result.broken.reason
    assert "deleted from its end" in result.broken.reason


async def test_a_truncated_log_fails_verify_in_the_cli(log: Log) -> None:
    await log.write(3)
    await log.seal()
    await log.checkpoint()
    env = {
        "DUDAO_DATABASE_URL": log.settings.database_url.get_secret_value()
        if log.settings.database_url
        else "",
        "DUDAO_AUDIT_CHECKPOINT_DIR": str(log.settings.audit_checkpoint_root),
        "DUDAO_AUDIT_KEY_ID": KEYS.key_id,
        "DUDAO_AUDIT_KEY": KEYS.keys[KEYS.key_id].decode(),
        "DUDAO_AUDIT_RETIRED_KEYS": json.dumps({"k1": KEYS.keys["k1"].decode()}),
    }
    assert (await log.verify()).broken is None
    await log.as_superuser(TRUNCATE)
    assert await log.rows() == []
    truncated = _verify_cli(**env)
    assert truncated.returncode == 1, truncated.stderr
    assert "inspection: BROKEN at entry 1" in truncated.stdout
    assert "truncated" in truncated.stdout


async def test_the_stream_keeps_the_checkpoint_when_the_file_is_gone(log: Log) -> None:
    await log.write(4)
    await log.seal()
    assert await log.checkpoint(publish=True) == 1
    for path in log.settings.audit_checkpoint_root.iterdir():
        path.unlink()  # the forger cleans up what they can reach
    await log.as_superuser(TRUNCATE)

    result = await log.verify()
    assert result.broken is not None
    assert result.checkpoint is not None
    assert result.checkpoint.count == 4
    assert "truncated" in result.broken.reason
    assert (await log.verify(stream=False)).broken is None  # with neither anchor, nothing would tell


async def test_a_forged_checkpoint_is_refused(log: Log) -> None:
    await log.write(2)
    await log.seal()
    await log.checkpoint()
    async with log.engine.connect() as conn:
        database = (await conn.execute(text("SELECT current_database()"))).scalar_one()
    # "The log was empty": a checkpoint MAC'd with a key that is not the deployment's.
    forged = audit.Checkpoint.signed(
        audit.AuditKeys(KEYS.key_id, {KEYS.key_id: b"not the key"}),
        database,
        "inspection",
        0,
        "",
        datetime.now(UTC),
    )
    path = audit.checkpoint_file(log.settings.audit_checkpoint_root, database, "inspection")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(forged.as_json()) + "\n")
    result = await log.verify(stream=False)
    assert result.broken is not None
    assert "not genuine" in result.broken.reason


async def test_a_rotated_key_still_verifies_what_it_sealed(log: Log) -> None:
    retired = audit.AuditKeys("k1", {"k1": KEYS.keys["k1"]})
    await log.write(2, keys=retired)
    await log.seal(keys=retired)  # before the rotation: written and sealed with k1
    await log.write(2)
    await log.seal()  # after it: k2, with k1 retired
    await log.checkpoint()
    result = await log.verify()
    assert (result.broken, result.checked, result.unsealed) == (None, 4, 0)
    assert [r["mac"].split(":")[0] for r in await log.rows()] == ["k1", "k1", "k2", "k2"]
    assert result.checkpoint is not None
    assert result.checkpoint.mac.startswith("k2:")


def test_production_refuses_the_development_audit_key_even_retired(settings: Settings) -> None:
    own = {name: SecretStr(f"production's own {name}") for name in DEVELOPMENT_SECRETS}
    production = settings.model_copy(update={"environment": "production", **own})
    production.require_startable()
    with pytest.raises(ConfigurationError, match="DUDAO_AUDIT_KEY "):
        production.model_copy(update={"audit_key": SecretStr(DEV_AUDIT_KEY)}).require_startable()
    # A retired key still verifies: the development one would pass what anyone MAC'd with it.
    with pytest.raises(ConfigurationError, match=r"DUDAO_AUDIT_RETIRED_KEYS\[k0\]"):
        production.model_copy(
            update={"audit_retired_keys": {"k0": SecretStr(DEV_AUDIT_KEY)}}
        ).require_startable()
