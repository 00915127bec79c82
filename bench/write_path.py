"""Issue 2's write-path benchmark: what does Dudao's kit cost on top of FastAPI + asyncpg?

  (a) a bare FastAPI + asyncpg endpoint: two inserts in one transaction;
  (b) POST /v1/schools: bearer auth, strict validation, jurisdiction, the row + outbox + audit entry
      in one unit of work.

Both run under uvicorn (one process each, in turn) against the same embedded PostgreSQL, driven by the
same client at the same concurrency. Prints requests/s, p50/p99 and the ratio b/a; the goal is >= 0.7.
Run with ``make bench`` (or ``.venv/bin/python bench/write_path.py --seconds 10``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import loadgen
from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings
from dudao.db import create_engine
from dudao.dev import embedded
from dudao.divisions.seed import seed_divisions
from dudao.migrations import upgrade_all

COUNTIES = ["450102", "450103", "450105", "450107", "450108", "450109", "450110"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_uvicorn(
    app: str, port: int, env: dict[str, str], app_dir: str | None = None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if app_dir:
        command += ["--app-dir", app_dir]
    process = subprocess.Popen(command, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(10)


async def seed(settings: Settings) -> None:
    engine = create_engine(settings, pool_size=1)
    await seed_divisions(engine)
    await engine.dispose()


def school_body(prefix: str) -> loadgen.Callable[[int], bytes]:
    def make(n: int) -> bytes:
        return json.dumps(
            {
                "school_code": f"{prefix}{n:09d}",
                "name": f"基准测试学校{n}",
                "school_type": "primary",
                "ownership": "public",
                "division_code": COUNTIES[n % len(COUNTIES)],
                "address": "民族大道100号",
                "enrolment": 800 + n % 1000,
            },
            ensure_ascii=False,
        ).encode()

    return make


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dudao-bench-") as scratch:
        pg = embedded.start_postgres(Path(scratch) / "pg", durable=True)
        nats = embedded.start_nats(Path(scratch) / "nats")
        try:
            embedded.create_database(pg, "bench")
            url = pg.url("bench")
            upgrade_all(url)
            settings = Settings(database_url=url, nats_url=nats.url)
            asyncio.run(seed(settings))
            env = {
                **os.environ,
                "DUDAO_DATABASE_URL": url,
                "DUDAO_NATS_URL": nats.url,
                "BENCH_PG_URL": url,
                "DUDAO_LOG_LEVEL": "WARNING",
            }
            print(
                f"machine: {os.cpu_count()} cores; concurrency {args.concurrency}; "
                f"{args.seconds:.0f} s per run; server and client share the machine"
            )

            port = free_port()
            bare = start_uvicorn("bare_app:app", port, env, app_dir=str(Path(__file__).parent))
            try:
                a = asyncio.run(
                    loadgen.run(
                        port,
                        "/records",
                        school_body("1"),
                        {},
                        concurrency=args.concurrency,
                        duration=args.seconds,
                    )
                )
            finally:
                stop(bare)
            print(a.line("(a) bare FastAPI + asyncpg, 2 inserts"))

            port = free_port()
            dudao = start_uvicorn("school_inspection.main:app", port, env)
            try:
                token = issue_dev_token(
                    settings, sub="bench", name="基准", roles=["supervision_office"], division="450100"
                )
                headers = {"Authorization": f"Bearer {token}"}
                probe = httpx.post(
                    f"http://127.0.0.1:{port}/v1/schools",
                    headers={**headers, "Content-Type": "application/json"},
                    content=school_body("9")(1),
                    timeout=10,
                )
                assert probe.status_code == 201, probe.text
                b = asyncio.run(
                    loadgen.run(
                        port,
                        "/v1/schools",
                        school_body(str(2 + secrets.randbelow(7))),
                        headers,
                        concurrency=args.concurrency,
                        duration=args.seconds,
                    )
                )
            finally:
                stop(dudao)
            print(b.line("(b) Dudao POST /v1/schools (row+outbox+audit)"))
            print(f"ratio b/a (requests/s): {b.rate / a.rate:.2f}   (goal >= 0.70)")
            print(
                f"ratio p50 b/a: {b.percentile(50) / a.percentile(50):.2f}   "
                f"ratio p99 b/a: {b.percentile(99) / a.percentile(99):.2f}"
            )
        finally:
            embedded.stop_nats(Path(scratch) / "nats")
            embedded.stop_postgres(Path(scratch) / "pg")


if __name__ == "__main__":
    main()
