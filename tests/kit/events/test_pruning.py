"""Bounded: the worker prunes the kit's tables past their retention, and the stream has limits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy
from nats.js.errors import APIError
from pydantic import ValidationError
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.common.models import common_kit
from dudao.config import Settings
from dudao.dev import embedded
from dudao.events.nats import STREAM, connect
from dudao.events.stream import DUPLICATE_WINDOW_SECONDS, declare_stream
from dudao.ids import uuid7
from dudao.migrations import service_specs
from dudao.retention import prune_job, prune_statements
from dudao.scheduler import Scheduler
from tests.kit.events.support import DIVISION, World, eventually, running

NOW = func.now()


def _ago(**delta: float) -> Any:
    return NOW - timedelta(**delta)


async def _seed(world: World, *, old: int, recent: int) -> dict[str, list[Any]]:
    """``old`` rows of each kit table past every default retention, ``recent`` ones within it, and as
    many unpublished outbox rows older than any retention; returns the keys of each group."""
    kit = world.kit
    keys: dict[str, list[Any]] = {name: [] for name in ("old", "recent", "unpublished")}
    async with world.engine.begin() as conn:
        for group, count, age in (("old", old, {"days": 40}), ("recent", recent, {"hours": 1})):
            for _ in range(count):
                event_id = uuid7()
                published = (
                    await conn.execute(
                        insert(kit.outbox)
                        .values(
                            event_id=event_id,
                            type=world.subject("pruned"),
                            division_code=DIVISION,
                            envelope={},
                            created_at=_ago(**age),
                            published_at=_ago(**age),
                        )
                        .returning(kit.outbox.c.seq)
                    )
                ).scalar_one()
                await conn.execute(
                    insert(kit.inbox).values(consumer="pruned", event_id=event_id, processed_at=_ago(**age))
                )
                await conn.execute(
                    insert(kit.idempotency).values(
                        principal="someone",
                        key=str(event_id),
                        request_hash="0" * 64,
                        status=201,
                        headers={},
                        body=b"{}",
                        created_at=_ago(**age),
                    )
                )
                letter = (
                    await conn.execute(
                        insert(kit.dead_letter)
                        .values(
                            consumer="pruned",
                            event_id=event_id,
                            subject=world.subject("pruned"),
                            payload=b"{}",
                            error="RuntimeError: no",
                            deliveries=5,
                            failed_at=_ago(**age),
                        )
                        .returning(kit.dead_letter.c.id)
                    )
                ).scalar_one()
                keys[group].append((published, event_id, letter))
        for _ in range(old):
            keys["unpublished"].append(
                (
                    await conn.execute(
                        insert(kit.outbox)
                        .values(
                            event_id=uuid7(),
                            type=world.subject("pruned"),
                            division_code=DIVISION,
                            envelope={},
                            created_at=_ago(days=400),
                        )
                        .returning(kit.outbox.c.seq)
                    )
                ).scalar_one()
            )
    return keys


async def _keys(world: World, table: Table, column: str) -> set[Any]:
    async with world.engine.connect() as conn:
        return set((await conn.execute(select(table.c[column]))).scalars())


async def _clear(world: World) -> None:
    async with world.engine.begin() as conn:
        for table in (world.kit.outbox, world.kit.inbox, world.kit.idempotency, world.kit.dead_letter):
            await conn.execute(table.delete())


@pytest.fixture
async def clean(world: World) -> AsyncIterator[World]:
    await _clear(world)
    yield world
    await _clear(world)


def _scheduler(world: World, settings: Settings) -> Scheduler:
    return Scheduler(world.sessions, world.kit, [prune_job(settings)], world.source, world.clock, settings)


async def test_rows_past_their_retention_are_pruned_and_recent_and_unpublished_ones_kept(
    clean: World,
) -> None:
    world = clean
    keys = await _seed(world, old=5, recent=3)
    settings = world.settings(prune_batch_size=2, scheduler_tick_seconds=0.05)
    scheduler = _scheduler(world, settings)
    job = prune_job(settings)

    # One bounded statement per table: a batch deletes at most prune_batch_size rows of each.
    assert await scheduler.run_once(job) == 4 * 2
    # The scheduler drains the rest, batch after batch, at its first tick.
    async with running(scheduler):

        async def drained() -> bool:
            return await world.count(world.kit.outbox) == 3 + 5 and await world.count(world.kit.inbox) == 3

        await eventually(drained, what="the backlog pruned")

    recent_seqs = {seq for seq, _, _ in keys["recent"]}
    recent_ids = {event_id for _, event_id, _ in keys["recent"]}
    assert await _keys(world, world.kit.outbox, "seq") == recent_seqs | set(keys["unpublished"])
    assert await _keys(world, world.kit.inbox, "event_id") == recent_ids
    assert await _keys(world, world.kit.idempotency, "key") == {str(i) for i in recent_ids}
    assert await _keys(world, world.kit.dead_letter, "id") == {letter for _, _, letter in keys["recent"]}
    assert await scheduler.run_once(job) == 0


async def test_each_table_keeps_rows_for_its_own_retention(clean: World) -> None:
    world = clean
    kit = world.kit
    async with world.engine.begin() as conn:
        for hours in (3, 30):  # idempotency: 24 h by default; the others keep both
            await conn.execute(
                insert(kit.idempotency).values(
                    principal="someone",
                    key=f"{hours}h",
                    request_hash="0" * 64,
                    status=201,
                    headers={},
                    body=b"{}",
                    created_at=_ago(hours=hours),
                )
            )
        for days in (6, 8):  # the outbox: 7 days by default
            await conn.execute(
                insert(kit.outbox).values(
                    event_id=uuid7(),
                    type=f"{days}d",
                    division_code=DIVISION,
                    envelope={},
                    created_at=_ago(days=days),
                    published_at=_ago(days=days),
                )
            )
        for days in (13, 15):  # the inbox: 14 days by default
            await conn.execute(
                insert(kit.inbox).values(consumer=f"{days}d", event_id=uuid7(), processed_at=_ago(days=days))
            )

    settings = world.settings()
    assert await _scheduler(world, settings).run_once(prune_job(settings)) == 3

    assert await _keys(world, kit.idempotency, "key") == {"3h"}
    assert await _keys(world, kit.outbox, "type") == {"6d"}
    assert await _keys(world, kit.inbox, "consumer") == {"13d"}


async def test_a_prune_skips_the_rows_another_transaction_holds(clean: World) -> None:
    world = clean
    keys = await _seed(world, old=2, recent=0)
    [(_, held, _), (_, free, _)] = keys["old"]
    settings = world.settings()
    inbox = world.kit.inbox
    async with world.engine.connect() as holder:
        await holder.execute(select(inbox).where(inbox.c.event_id == held).with_for_update())
        # It neither waits for the lock nor takes the row.
        await asyncio.wait_for(_scheduler(world, settings).run_once(prune_job(settings)), 5.0)
        assert await _keys(world, inbox, "event_id") == {held}
        await holder.rollback()
    assert free not in await _keys(world, inbox, "event_id")


async def test_every_schema_prunes_through_its_migrated_indexes(
    engine: AsyncEngine, settings: Settings
) -> None:
    """A prune reads its batch through an index, never the whole (large) table, in every schema."""
    kits = [common_kit, *(spec.kit for spec in service_specs())]
    async with engine.connect() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # a scan no index can replace stays
        for kit in kits:
            for statement in prune_statements(kit, settings):
                compiled = statement.compile(dialect=conn.dialect)
                params = tuple(compiled.params[name] for name in compiled.positiontup or ())
                plan = (await conn.exec_driver_sql(f"EXPLAIN {compiled.string}", params)).scalars().all()
                assert not [line for line in plan if "Seq Scan" in line], "\n".join(plan)
        await conn.rollback()


def test_the_inbox_must_outlive_the_stream_and_the_outbox() -> None:
    with pytest.raises(ValidationError, match="inbox_retention_days"):
        Settings(environment="test", stream_max_age_days=14, inbox_retention_days=14)
    with pytest.raises(ValidationError, match="inbox_retention_days"):
        Settings(environment="test", outbox_retention_days=30, inbox_retention_days=20)
    assert Settings(environment="test", outbox_retention_days=30, inbox_retention_days=31)


@pytest.fixture
async def bare_server(tmp_path: Path) -> AsyncIterator[tuple[str, JetStreamContext]]:
    """A NATS server of its own: its stream's configuration is this test's alone."""
    server = embedded.start_nats(tmp_path / "nats")
    try:
        nc = await connect(server.admin_url, "tests-limits")
        try:
            yield server.admin_url, nc.jetstream()
        finally:
            await nc.close()
    finally:
        embedded.stop_nats(tmp_path / "nats")


async def test_declare_stream_applies_the_limits_of_the_settings(
    bare_server: tuple[str, JetStreamContext],
) -> None:
    url, js = bare_server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUDAO_NATS_")},  # the suite's server
        "DUDAO_NATS_URL": url,
        "DUDAO_STREAM_MAX_AGE_DAYS": "3",
        "DUDAO_INBOX_RETENTION_DAYS": "8",
        "DUDAO_STREAM_MAX_BYTES": str(64 * 1024**2),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "dudao.cli", "events", "declare-stream"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    config = (await js.stream_info(STREAM)).config
    assert config.max_age == timedelta(days=3).total_seconds()
    assert config.max_bytes == 64 * 1024**2
    assert config.discard == DiscardPolicy.NEW
    assert config.duplicate_window == DUPLICATE_WINDOW_SECONDS
    assert config.max_msgs_per_subject in (None, -1)  # every event of a type counts


async def test_a_full_stream_refuses_new_messages_rather_than_drop_unread_ones(
    bare_server: tuple[str, JetStreamContext],
) -> None:
    _, js = bare_server
    await declare_stream(js, max_bytes=4096)
    body = b"x" * 500
    refused: APIError | None = None
    stored = 0
    while refused is None and stored < 100:
        try:
            await js.publish("dudao.limits.thing.happened.v1", body, headers={"Nats-Msg-Id": str(stored)})
        except APIError as exc:
            refused = exc
        else:
            stored += 1
    assert refused is not None, "a stream of 4 KiB took 50 KB"
    state = (await js.stream_info(STREAM)).state
    assert 0 < stored < 100
    assert (state.first_seq, state.messages) == (1, stored)  # the first is still there: none was dropped
