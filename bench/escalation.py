"""Issue 3's benchmark: how fast does the escalation loop react, and how much can it sweep?

  1. Latency from "rectification rejected" committed in school-inspection to "urging order" committed in
     accountability, p50/p99 over ``--cases`` cases (rejections paced at ``--rate`` per second), through
     the real path: outbox, relay, JetStream, durable consumer, ladder, gapless document number.
  2. Throughput of an overdue sweep: ``--sweep`` rectifications whose deadline passed, end to end until
     every urging order is committed (scheduler → outbox → relay → NATS → accountability).

Printed beside the stack's own limits measured in the same run: raw NATS publish-to-receive latency and
raw PostgreSQL committed inserts per second. Workers run as separate processes, as in production.
Run with ``.venv/bin/python bench/escalation.py`` (defaults: 1,000 cases, a sweep of 100,000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
import baselines
from dudao.auth.principal import Principal, Role
from dudao.clock import clock
from dudao.config import Settings
from dudao.db import asyncpg_url, create_engine, session_factory
from dudao.dev import embedded
from dudao.divisions import load_tree
from dudao.rectification import service
from dudao.uow import Actor, UnitOfWork
from loadgen import percentile
from school_inspection.db import kit

OFFICE = Principal(
    sub="bench-office", name="基准", roles=frozenset({Role.SUPERVISION_OFFICE}), division="450000"
)
COUNTIES = [d.code for d in load_tree().all() if d.level == "county"]

# Findings and their rectifications, made in bulk: each case gets its own school in a county.
SEED = """
WITH rows AS (
    SELECT n, gen_random_uuid() AS finding_id, gen_random_uuid() AS rectification_id,
           (CAST(:counties AS text[]))[1 + n % cardinality(CAST(:counties AS text[]))] AS county
    FROM generate_series(1, :count) AS n
), findings AS (
    INSERT INTO inspection.finding (id, origin_kind, category, severity, description, evidence_ids, unit_id,
        unit_kind, unit_name, competent_department, division_code, office_division, raised_by, raised_at)
    SELECT finding_id, 'visit', :category, 'major', '基准测试问题', '{}', :prefix || n, 'school',
           '基准学校' || n, '教育局', county, county, 'bench', now()
    FROM rows
), rectifications AS (
    INSERT INTO inspection.rectification (id, finding_id, requirement, deadline_kind, deadline_days,
        started_on, deadline, provisional_deadline, status, escalation_level, unit_id, competent_department,
        division_code, office_division, created_at, updated_at, version)
    SELECT rectification_id, finding_id, '限期整改', 'calendar', 30, CAST(:started AS date),
           CAST(:deadline AS date), false, :status, 0, :prefix || n, '教育局', county, county, now(), now(), 1
    FROM rows
)
INSERT INTO inspection.rectification_report (id, rectification_id, text, evidence_ids, submitted_by,
    submitted_at)
SELECT gen_random_uuid(), rectification_id, '整改报告', '{}', 'bench', now()
FROM rows WHERE :status = 'submitted'
"""


async def seed(
    settings: Settings, count: int, *, category: str, status: str, deadline_in_days: int
) -> list[UUID]:
    engine = create_engine(settings, pool_size=1)
    today = clock.today()
    async with engine.begin() as conn:
        await conn.execute(
            text(SEED),
            {
                "counties": COUNTIES,
                "count": count,
                "category": category,
                "status": status,
                "prefix": f"{category}-",
                "started": today - timedelta(days=30),
                "deadline": today + timedelta(days=deadline_in_days),
            },
        )
        ids = (
            await conn.execute(
                text(
                    "SELECT r.id FROM inspection.rectification r JOIN inspection.finding f "
                    "ON f.id = r.finding_id WHERE f.category = :c"
                ),
                {"c": category},
            )
        ).scalars()
        result = list(ids)
    await engine.dispose()
    return result


async def reject_paced(settings: Settings, ids: list[UUID], rate: float) -> dict[str, float]:
    """Reject each report in its own transaction, ``rate`` per second; return commit times."""
    engine = create_engine(settings, pool_size=4, schema="inspection")
    sessions = session_factory(engine)
    committed: dict[str, float] = {}
    started = time.perf_counter()
    for i, rectification_id in enumerate(ids):
        async with sessions() as session:
            uow = UnitOfWork(session, kit, "/dudao/bench", clock, Actor(id="bench", kind="person"))
            await service.reject(uow, OFFICE, rectification_id, "证据不足", 15)
            await uow.commit()
        committed[str(rectification_id)] = time.time()
        delay = started + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await engine.dispose()
    return committed


STEPS_FROM = """
FROM accountability.escalation_step s JOIN accountability.escalation_case c ON c.id = s.case_id
WHERE c.category = :category AND s.reason = :reason AND s.kind = 'urging_order'
"""
STEPS = "SELECT c.rectification_id, s.created_at" + STEPS_FROM
COUNT_STEPS = "SELECT count(*)" + STEPS_FROM


async def wait_for_steps(
    settings: Settings, category: str, reason: str, expected: int, within: float, progress: bool = False
) -> tuple[dict[str, datetime], float]:
    engine = create_engine(settings, pool_size=1)
    deadline = time.monotonic() + within
    try:
        while True:
            async with engine.connect() as conn:
                count = (
                    await conn.execute(text(COUNT_STEPS), {"category": category, "reason": reason})
                ).scalar_one()
            if count >= expected:
                finished = time.time()
                async with engine.connect() as conn:
                    rows = await conn.execute(text(STEPS), {"category": category, "reason": reason})
                    return {r.rectification_id: r.created_at for r in rows}, finished
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {count} of {expected} urging orders after {within:.0f} s")
            if progress:
                print(f"  … {count:>7} of {expected} urging orders committed", flush=True)
            await asyncio.sleep(2 if progress else 0.2)
    finally:
        await engine.dispose()


def start_workers(
    env: dict[str, str], logs: Path, accountability_workers: int
) -> list[subprocess.Popen[bytes]]:
    commands = [("school_inspection", 0)] + [("accountability", i) for i in range(accountability_workers)]
    processes = []
    for package, index in commands:
        log = (logs / f"{package}-{index}.log").open("ab")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", f"{package}.worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )
    return processes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="rejections per second")
    parser.add_argument("--sweep", type=int, default=100_000)
    parser.add_argument("--accountability-workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dudao-bench-") as scratch:
        root = Path(scratch)
        pg = embedded.start_postgres(root / "pg", durable=True)
        nats = embedded.start_nats(root / "nats")
        processes: list[subprocess.Popen[bytes]] = []
        try:
            embedded.create_database(pg, "bench")
            url = asyncpg_url(pg.url("bench"))
            env = {
                **os.environ,
                "DUDAO_DATABASE_URL": url,
                "DUDAO_NATS_URL": nats.url,
                "DUDAO_LOG_LEVEL": "WARNING",
                "DUDAO_OUTBOX_POLL_SECONDS": "1",
            }
            for command in (["migrate"], ["events", "declare-stream"]):
                subprocess.run(
                    [sys.executable, "-m", "dudao.cli", *command],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            settings = Settings(database_url=url, nats_url=nats.url)
            print(
                f"machine: {os.cpu_count()} cores; workers: 1 school-inspection, "
                f"{args.accountability_workers} accountability; all on this machine"
            )

            nats_p50, nats_p99 = asyncio.run(baselines.nats_publish_to_receive(nats.url))
            insert_rate = asyncio.run(baselines.postgres_insert_rate(pg.url("bench")))
            print(
                f"raw NATS JetStream publish→receive        p50 {nats_p50:7.2f} ms   p99 {nats_p99:7.2f} ms"
            )
            print(f"raw PostgreSQL committed inserts          {insert_rate:8.0f} rows/s (8 connections)")

            processes = start_workers(env, root, args.accountability_workers)
            time.sleep(3)

            ids = asyncio.run(
                seed(settings, args.cases, category="bench_reject", status="submitted", deadline_in_days=30)
            )
            committed = asyncio.run(reject_paced(settings, ids, args.rate))
            steps, _ = asyncio.run(
                wait_for_steps(settings, "bench_reject", "rejected", len(ids), args.timeout)
            )
            latencies = [steps[r].timestamp() - committed[r] for r in committed]
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
            print(
                f"rejected → urging order committed         p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
                f"({len(latencies)} cases at {args.rate:.0f}/s)"
            )
            print(
                f"  ratio to raw NATS latency               p50 {p50 / nats_p50:7.1f}x   "
                f"p99 {p99 / nats_p99:7.1f}x"
            )

            seeded_at = time.time()
            asyncio.run(
                seed(settings, args.sweep, category="bench_sweep", status="open", deadline_in_days=-1)
            )
            print(
                f"overdue sweep: {args.sweep} rectifications past their deadline (seeded in "
                f"{time.time() - seeded_at:.1f} s); waiting for every urging order",
                flush=True,
            )
            started = time.time()
            _, finished = asyncio.run(
                wait_for_steps(settings, "bench_sweep", "overdue", args.sweep, args.timeout, progress=True)
            )
            rate = args.sweep / (finished - started)
            print(
                f"overdue sweep end to end                  {rate:8.0f} urging orders/s "
                f"({args.sweep} in {finished - started:.0f} s)"
            )
            print(f"  ratio to raw PostgreSQL insert rate     {rate / insert_rate:8.3f}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(15)
            embedded.stop_nats(root / "nats")
            embedded.stop_postgres(root / "pg")


if __name__ == "__main__":
    main()
