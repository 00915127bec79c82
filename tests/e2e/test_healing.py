"""The suite heals: ``dudao up`` with an API, a worker and the NATS server killed by SIGKILL under load
keeps serving, restarts what died (NATS on its port), and nothing is lost or done twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from dudao.dev.calls import advance_clock, bearer
from dudao.dev.suite import SERVICES, stop_suite
from tests.conftest import TokenFactory, random_school_code
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e
COUNTY = "450103"  # 青秀区
WAVE = 40  # findings per wave; two waves, one sweep each
OVERDUE = "dudao.school-inspection.rectification.overdue.v1"
UP_TIMEOUT_SECONDS = 180.0
NO_LIMITS = "1000000/minute"


@dataclass
class Up:
    """A ``dudao up`` of the test's own: its own database and data folder, its embedded NATS."""

    data_dir: Path
    urls: dict[str, str]
    out: Path
    err: Path

    def pid(self, name: str) -> int:
        processes = json.loads((self.data_dir / "suite.json").read_text())["processes"]
        pid: int = {p["name"]: p["pid"] for p in processes}[name]
        return pid

    def nats(self) -> tuple[int, int]:
        """The embedded NATS server's pid and port."""
        nats_dir = self.data_dir / "nats"
        port: int = json.loads((nats_dir / "server.json").read_text())["port"]
        return int((nats_dir / "nats.pid").read_text()), port

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def up(own_database: str, tmp_path: Path) -> Iterator[Up]:
    data_dir = tmp_path / ".dudao"
    ports = {service: _free_port() for service in SERVICES}
    # The session's NATS and its users stay out: this suite runs an embedded server of its own.
    env = {key: value for key, value in os.environ.items() if "NATS" not in key}
    env |= {
        "DUDAO_DATA_DIR": str(data_dir),
        "DUDAO_DATABASE_URL": own_database,
        "DUDAO_OUTBOX_POLL_SECONDS": "1",
        "DUDAO_SCHEDULER_TICK_SECONDS": "1",
        # What a killed worker held unacknowledged comes again after this, not after the default 30 s.
        "DUDAO_CONSUMER_ACK_WAIT_SECONDS": "5",
        "DUDAO_RATE_LIMIT_PER_ADDRESS": NO_LIMITS,
        "DUDAO_RATE_LIMIT_PER_SUBJECT": NO_LIMITS,
    }
    env |= {service.port_variable: str(port) for service, port in ports.items()}
    out, err = tmp_path / "up.out", tmp_path / "up.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        popen = subprocess.Popen(
            [sys.executable, "-m", "dudao.cli", "up"], stdout=stdout, stderr=stderr, env=env, cwd=tmp_path
        )
    running = Up(data_dir, {s.name: f"http://127.0.0.1:{port}" for s, port in ports.items()}, out, err)
    try:
        deadline = time.monotonic() + UP_TIMEOUT_SECONDS
        while "Dudao is up" not in out.read_text(errors="replace"):
            if popen.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dudao up did not come up\n{running.output()}")
            time.sleep(0.25)
        yield running
    finally:
        stop_suite(data_dir)  # what `dudao down` does
        popen.wait(60)


@pytest.fixture
async def db(own_database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(own_database)
    yield conn
    await conn.close()


async def _raise_finding(client: httpx.AsyncClient, up: Up, office: dict[str, str]) -> None:
    """Raise a finding, retried with its Idempotency-Key until answered: the API may be dead or restarting."""
    headers = office | {"Idempotency-Key": str(uuid4())}
    body = {
        "unit": {
            "id": random_school_code(),
            "kind": "school",
            "name": "青秀区自愈测试学校",
            "division_code": COUNTY,
            "competent_department": "青秀区教育局",
        },
        "origin_kind": "visit",
        "category": "safety",
        "severity": "serious",
        "description": "教学楼安全出口指示灯损坏",
        "requirement": "更换指示灯并建立每周检查制度",
        "deadline": {"days": 2, "kind": "calendar"},
    }
    deadline = time.monotonic() + 90
    while True:
        try:
            response = await client.post(
                up.urls["school-inspection"] + "/v1/findings", headers=headers, json=body
            )
        except httpx.TransportError:  # killed under our request, or not listening yet
            response = None
        if response is not None and response.status_code == 201:  # the first answer, or its replay
            return
        # 409: the first try of this key still runs; 502 and 503: the process is away.
        if response is not None and response.status_code not in (409, 502, 503):
            pytest.fail(f"the finding was refused: {response.status_code} {response.text}")
        if time.monotonic() > deadline:
            pytest.fail(f"no answer within 90 s\n{up.output()}")
        await asyncio.sleep(0.2)


async def _wave(client: httpx.AsyncClient, up: Up, office: dict[str, str], count: int) -> None:
    gate = asyncio.Semaphore(10)

    async def one() -> None:
        async with gate:
            await _raise_finding(client, up, office)

    await asyncio.gather(*(one() for _ in range(count)))


async def _counts(db: asyncpg.Connection) -> dict[str, Any]:
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM inspection.finding) AS findings,
               (SELECT count(*) FROM inspection.rectification) AS rectifications,
               (SELECT count(*) FROM accountability.escalation_case) AS cases,
               (SELECT count(DISTINCT rectification_id) FROM accountability.escalation_case) AS escalated,
               (SELECT count(*) FROM accountability.escalation_step) AS steps,
               (SELECT count(*) FROM inspection.rectification_step) AS recorded_steps,
               (SELECT count(*) FROM inspection.outbox WHERE type = $1) AS overdue_events,
               (SELECT count(*) FROM inspection.outbox WHERE published_at IS NULL) AS unpublished,
               (SELECT count(*) FROM accountability.outbox WHERE published_at IS NULL) AS unpublished_steps,
               (SELECT count(*) FROM accountability.dead_letter)
                 + (SELECT count(*) FROM inspection.dead_letter) AS dead_letters
        """,
        OVERDUE,
    )
    assert row is not None
    return dict(row)


async def _all_ready(client: httpx.AsyncClient, up: Up) -> bool:
    try:
        answers = await asyncio.gather(*(client.get(url + "/readyz") for url in up.urls.values()))
    except httpx.TransportError:
        return False
    return all(a.status_code == 200 for a in answers)


async def test_killed_processes_and_nats_are_restarted_and_nothing_is_lost_or_doubled(
    up: Up, token: TokenFactory, db: asyncpg.Connection
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    admin = bearer(token("platform_admin", division="450000"))
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        # 1. An API service killed while findings pour in: the others serve on, it comes back.
        inspection_api = up.pid("school-inspection")
        first = asyncio.ensure_future(_wave(client, up, office, WAVE))
        await eventually(lambda: _rectifications_reach(db, WAVE // 3), within=60, interval=0.05)
        os.kill(inspection_api, signal.SIGKILL)
        cases = await client.get(up.urls["accountability"] + "/v1/cases", headers=office)
        assert cases.status_code == 200, "the rest of the suite keeps serving"
        await first

        # 2. The worker that escalates killed once its sweep has begun.
        await advance_clock(client, up.urls, admin, 3)
        await eventually(lambda: _steps_reach(db, 1), within=60, interval=0.05)
        os.kill(up.pid("accountability-worker"), signal.SIGKILL)

        # 3. NATS killed while the second wave comes in (its events relayed) and the first is escalated.
        nats_pid, nats_port = up.nats()
        second = asyncio.ensure_future(_wave(client, up, office, WAVE))
        await eventually(lambda: _rectifications_reach(db, WAVE + WAVE // 3), within=60, interval=0.05)
        os.kill(nats_pid, signal.SIGKILL)
        await second
        await eventually(lambda: _steps_reach(db, WAVE), within=90)
        await eventually(lambda: _all_ready(client, up), within=30)

        # 4. The second wave's overdue facts, and the steps back, through the relays and consumers that
        # were connected when NATS died.
        await advance_clock(client, up.urls, admin, 3)

        async def settled() -> dict[str, Any] | None:
            counts = await _counts(db)
            done = (
                counts["recorded_steps"] == 2 * WAVE
                and counts["unpublished"] == counts["unpublished_steps"] == 0
            )
            return counts if done else None

        await eventually(settled, within=90)
        await asyncio.sleep(2)  # anything a crash left unacknowledged has been redelivered by now
        counts = await _counts(db)

    total = 2 * WAVE
    assert counts == {
        "findings": total,  # a retried POST wrote nothing twice
        "rectifications": total,
        "cases": total,
        "escalated": total,  # one case per rectification
        "steps": total,  # one step per overdue fact, none twice
        "recorded_steps": total,  # and each step back in school-inspection, once
        "overdue_events": total,
        "unpublished": 0,
        "unpublished_steps": 0,
        "dead_letters": 0,
    }
    by_year: dict[int, list[int]] = {}
    for row in await db.fetch(
        "SELECT year, serial FROM accountability.document WHERE office_division = $1"
        " AND kind = 'urging_order' ORDER BY year, serial",
        COUNTY,
    ):
        by_year.setdefault(row["year"], []).append(row["serial"])
    for serials in by_year.values():  # numbered without a gap or a repeat, every year
        assert serials == list(range(1, len(serials) + 1))
    assert sum(map(len, by_year.values())) == total

    again_pid, again_port = up.nats()
    assert again_port == nats_port, "NATS came back on its port"
    assert again_pid != nats_pid
    assert up.pid("school-inspection") != inspection_api, "suite.json names the restarted process"
    output = up.output()
    for name in ("school-inspection", "accountability-worker"):
        assert f"{name} was killed by SIGKILL (exit code -9); starting it again in 1 s" in output
        assert f"{name} started again" in output
    assert "NATS died; starting it again in 1 s" in output
    assert "NATS started again" in output
    assert "keeps dying" not in output, "each came back at the first restart"


async def _rectifications_reach(db: asyncpg.Connection, count: int) -> bool:
    return bool(await db.fetchval("SELECT count(*) >= $1 FROM inspection.rectification", count))


async def _steps_reach(db: asyncpg.Connection, count: int) -> bool:
    return bool(await db.fetchval("SELECT count(*) >= $1 FROM accountability.escalation_step", count))
