"""One clock across processes: moved over HTTP or the CLI, followed by every API process and worker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.auth.principal import Principal, Role
from dudao.calendar.models import ClockOffset
from dudao.clock import BUSINESS_TZ, Clock
from dudao.clock_sync import ClockSync, advance, ensure_allowed
from dudao.common.models import common_kit
from dudao.config import Settings
from dudao.db import session_factory
from dudao.events.nats import connect
from dudao.events.relay import OutboxRelay
from dudao.events.worker import run_worker
from dudao.http.app import create_service_app
from dudao.runtime import Runtime
from dudao.scheduler import scheduled
from dudao.uow import UnitOfWork
from governance.main import spec as governance_spec
from school_inspection.main import spec as inspection_spec
from tests.conftest import TokenFactory, bearer, serve

MOVED = "dudao.common.clock.moved.v1"
ADMIN = Principal(sub="admin-1", name="管理员", roles=frozenset({Role.PLATFORM_ADMIN}), division="450000")


@pytest.fixture
def adjustable(settings: Settings) -> Settings:
    return settings.model_copy(update={"clock_adjustable": True})


@pytest.fixture
def admin(token: TokenFactory) -> dict[str, str]:
    return bearer(token("platform_admin", division="450000"))


@pytest.fixture(autouse=True)
async def real_time_afterwards(engine: AsyncEngine) -> AsyncIterator[None]:
    """Every test leaves the suite's clock at real time, as a later move (a new version) would."""
    yield
    async with engine.begin() as conn:
        await conn.execute(
            update(ClockOffset).values(
                offset_seconds=0.0, version=ClockOffset.version + 1, updated_by="tests"
            )
        )


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> float:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} did not hold within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _offset(client: httpx.AsyncClient, admin: dict[str, str]) -> float:
    response = await client.get("/v1/clock", headers=admin)
    assert response.status_code == 200, response.text
    seconds: float = response.json()["offset_seconds"]
    return seconds


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def _stored(engine: AsyncEngine) -> tuple[float, int] | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(ClockOffset.offset_seconds, ClockOffset.version))).first()
    return None if row is None else (row.offset_seconds, row.version)


async def _moves_in_outbox(engine: AsyncEngine) -> int:
    outbox = common_kit.outbox
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).where(outbox.c.type == MOVED))).scalar_one())


async def test_a_move_reaches_another_service_and_a_worker_within_two_seconds(
    adjustable: Settings, admin: dict[str, str]
) -> None:
    seen_by_job: list[datetime] = []

    @scheduled(every=timedelta(milliseconds=50), name="clock-probe")
    async def probe(uow: UnitOfWork, now: datetime) -> int:
        seen_by_job.append(now)
        return 0

    # The worker relays the common outbox, as every service's worker does, and runs a timed job.
    worker = asyncio.create_task(
        run_worker(
            service_name="clock-test",
            source="/dudao/tests",
            kit=common_kit,
            extra_kits=[],
            consumers=[],
            jobs=[probe],
            settings=adjustable.model_copy(update={"scheduler_tick_seconds": 0.05}),
            clock=Clock(),
        )
    )
    # Each app has a clock of its own, as a separate process would.
    governance_app = create_service_app(governance_spec, adjustable, clock=Clock())
    inspection_app = create_service_app(inspection_spec, adjustable, clock=Clock())
    try:
        async with serve(governance_app) as governance, serve(inspection_app) as inspection:
            await eventually(lambda: _ready(inspection), within=10, what="inspection connected to NATS")
            await eventually(lambda: _ready(governance), within=10, what="governance connected to NATS")
            await asyncio.sleep(0.2)  # the clock subscription follows the connection
            before = await _offset(inspection, admin)

            moved = await governance.post("/v1/clock/advance", json={"days": 3, "hours": 2}, headers=admin)
            assert moved.status_code == 200, moved.text
            target = before + timedelta(days=3, hours=2).total_seconds()
            assert moved.json()["offset_seconds"] == pytest.approx(target)
            assert moved.json()["adjustable"] is True

            async def inspection_moved() -> bool:
                return await _offset(inspection, admin) == pytest.approx(target)

            took = await eventually(inspection_moved, within=2.0, what="the other service's clock moved")
            reading = (await inspection.get("/v1/clock", headers=admin)).json()
            expected_now = datetime.now(UTC) + timedelta(seconds=target)
            assert abs(datetime.fromisoformat(reading["now"]) - expected_now) < timedelta(seconds=5)
            assert reading["business_date"] == expected_now.astimezone(BUSINESS_TZ).date().isoformat()
            assert await _offset(governance, admin) == pytest.approx(target)

            async def job_moved() -> bool:
                return bool(seen_by_job) and seen_by_job[-1] > datetime.now(UTC) + timedelta(days=3)

            await eventually(job_moved, within=2.0, what="the worker's scheduled job saw the new time")
        assert took < 2.0
    finally:
        if not worker.done():  # once the worker has returned, SIGTERM would end the test run itself
            os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(worker, 15.0)


async def test_the_nats_message_moves_a_process_long_before_its_poll(
    adjustable: Settings, engine: AsyncEngine
) -> None:
    assert adjustable.nats_url is not None
    sessions = session_factory(engine)
    clock = Clock()
    sync = ClockSync(clock, sessions, poll_seconds=60.0)
    await sync.refresh()
    nc = await connect(adjustable.nats_url, "tests-clock")
    try:
        await sync.subscribe(nc)
        async with sessions() as session:
            uow = UnitOfWork(session, common_kit, "/dudao/tests", Clock())
            row = await advance(uow, ADMIN, timedelta(hours=5), adjustable)
            await uow.commit()
        await OutboxRelay(engine, common_kit, nc.jetstream(), adjustable).publish_batch()

        async def applied() -> bool:
            return clock.offset == timedelta(seconds=row.offset_seconds)

        await eventually(applied, within=2.0, what="the clock followed the message")
    finally:
        await nc.close()


async def test_a_late_message_never_moves_the_clock_back(engine: AsyncEngine) -> None:
    clock = Clock()
    sync = ClockSync(clock, session_factory(engine))
    sync.apply(7200.0, version=8)
    sync.apply(3600.0, version=7)  # an older move, heard after a newer one
    assert clock.offset == timedelta(hours=2)
    sync.apply(10800.0, version=9)
    assert clock.offset == timedelta(hours=3)


@pytest.mark.parametrize(
    "body",
    [
        {"days": False},
        {"days": "3"},
        {"days": -1},
        {"days": 1, "hours": -1},
        {"days": 0, "hours": 0},
        {},
        {"weeks": 1},
        {"days": 1.5},
    ],
)
async def test_bad_moves_are_refused_and_write_nothing(
    adjustable: Settings, admin: dict[str, str], engine: AsyncEngine, body: dict[str, Any]
) -> None:
    stored, moves = await _stored(engine), await _moves_in_outbox(engine)
    async with serve(create_service_app(governance_spec, adjustable, clock=Clock())) as governance:
        response = await governance.post("/v1/clock/advance", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await _stored(engine), await _moves_in_outbox(engine)) == (stored, moves)


async def test_moving_the_clock_is_refused_unless_adjustable_and_for_anyone_but_an_administrator(
    governance: httpx.AsyncClient,
    adjustable: Settings,
    admin: dict[str, str],
    token: TokenFactory,
    engine: AsyncEngine,
) -> None:
    stored, moves = await _stored(engine), await _moves_in_outbox(engine)
    refused = await governance.post("/v1/clock/advance", json={"days": 1}, headers=admin)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:dudao:problem:clock-not-adjustable"
    reading = await governance.get("/v1/clock", headers=admin)
    assert reading.json()["adjustable"] is False
    assert (await governance.get("/v1/clock")).status_code == 401

    async with serve(create_service_app(governance_spec, adjustable, clock=Clock())) as movable:
        office = bearer(token("supervision_office", division="450000"))
        forbidden = await movable.post("/v1/clock/advance", json={"days": 1}, headers=office)
        assert (forbidden.status_code, forbidden.json()["type"]) == (403, "urn:dudao:problem:forbidden")
    assert (await _stored(engine), await _moves_in_outbox(engine)) == (stored, moves)


async def test_production_refuses_to_start_with_an_adjustable_clock(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production", "clock_adjustable": True})
    with pytest.raises(RuntimeError, match="production"):
        ensure_allowed(production)
    with pytest.raises(RuntimeError, match="production"):
        await Runtime.start(governance_spec, production, Clock())
    with pytest.raises(RuntimeError, match="production"):
        await run_worker(
            service_name="clock-test",
            source="/dudao/tests",
            kit=common_kit,
            extra_kits=[],
            consumers=[],
            jobs=[],
            settings=production,
            clock=Clock(),
        )
    ensure_allowed(settings.model_copy(update={"environment": "production"}))


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dudao.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


async def test_the_cli_moves_the_clock_only_where_it_is_adjustable(engine: AsyncEngine) -> None:
    before, moves = await _stored(engine), await _moves_in_outbox(engine)
    refused = await asyncio.to_thread(_cli, "clock", "advance", "--days", "1")
    assert refused.returncode == 2
    assert "DUDAO_CLOCK_ADJUSTABLE" in refused.stderr
    nothing = await asyncio.to_thread(_cli, "clock", "advance", DUDAO_CLOCK_ADJUSTABLE="true")
    assert nothing.returncode == 2
    production = await asyncio.to_thread(
        _cli, "clock", "advance", "--days", "1", DUDAO_CLOCK_ADJUSTABLE="true", DUDAO_ENVIRONMENT="production"
    )
    assert production.returncode == 2
    assert (await _stored(engine), await _moves_in_outbox(engine)) == (before, moves)

    moved = await asyncio.to_thread(_cli, "clock", "advance", "--days", "2", DUDAO_CLOCK_ADJUSTABLE="true")
    assert moved.returncode == 0, moved.stderr
    assert "2 days" in moved.stdout
    after = await _stored(engine)
    assert after is not None
    assert after[0] == pytest.approx((before[0] if before else 0.0) + timedelta(days=2).total_seconds())
    assert await _moves_in_outbox(engine) == moves + 1
