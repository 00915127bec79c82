"""The escalation loop: how fast does it react, and how much can it sweep?

  1. Hop: from "rectification rejected" committed in school-inspection (POST …/reject, paced at 50 per
     second) to "urging order" committed in accountability, p50/p99, through the real path: outbox, relay,
     JetStream, durable consumer, ladder, gapless document number. Goals: p50 <= 10 ms, p99 <= 50 ms.
  2. Sweep: rectifications whose deadline passed, end to end until every urging order is committed
     (scheduler → outbox → relay → NATS → accountability). Goal: >= 5,000 urging orders/s over 100,000.

Findings and rectifications are seeded in SQL; workers run as separate processes, as in production.
Run by bench/run.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from loadgen import percentile
from stack import REGION, Process, Service, Stack

# Findings and their rectifications, made in bulk: each case gets its own unit in a county.
SEED = """
WITH rows AS (
    SELECT n, gen_random_uuid() AS finding_id, gen_random_uuid() AS rectification_id,
           ($1::text[])[1 + n % cardinality($1::text[])] AS county
    FROM generate_series(1, $2::int) AS n
), findings AS (
    INSERT INTO inspection.finding (id, origin_kind, category, severity, description, evidence_ids, unit_id,
        unit_kind, unit_name, competent_department, division_code, office_division, raised_by, raised_at)
    SELECT finding_id, 'visit', $3, 'major', '基准测试问题', '{}', $5 || n, 'school',
           '基准学校' || n, '教育局', county, county, 'bench', now()
    FROM rows
), rectifications AS (
    INSERT INTO inspection.rectification (id, finding_id, requirement, deadline_kind, deadline_days,
        started_on, deadline, provisional_deadline, status, escalation_level, unit_id, competent_department,
        division_code, office_division, created_at, updated_at, version)
    SELECT rectification_id, finding_id, '限期整改', 'calendar', 30, $6::date,
           $7::date, false, $4, 0, $5 || n, '教育局', county, county, now(), now(), 1
    FROM rows
), reports AS (
    INSERT INTO inspection.rectification_report (id, rectification_id, text, evidence_ids, submitted_by,
        submitted_at)
    SELECT gen_random_uuid(), rectification_id, '整改报告', '{}', 'bench', now()
    FROM rows WHERE $4 = 'submitted'
), ladder AS (
    SELECT id, version FROM accountability.escalation_ladder
    WHERE active AND finding_category IS NULL AND division_prefix IS NULL ORDER BY version DESC LIMIT 1
)
-- Accountability's cases, as the rectifications' opening events leave them: it obeys no later fact of a
-- rectification it never saw opened.
INSERT INTO accountability.escalation_case (id, origin, rectification_id, finding_id, category, severity,
    requirement, unit_id, unit_kind, unit_name, competent_department, office_division, division_code,
    ladder_id, ladder_version, ladder_position, step_count, status, opened_at)
SELECT gen_random_uuid(), 'school-inspection', rectification_id::text, finding_id::text, $3, 'major',
       '限期整改', $5 || n, 'school', '基准学校' || n, '教育局', county, county, ladder.id, ladder.version,
       0, 0, 'open', now()
FROM rows, ladder
"""
CASES = """
SELECT r.id FROM inspection.rectification r JOIN inspection.finding f ON f.id = r.finding_id
WHERE f.category = $1
"""
STEPS_FROM = """
FROM accountability.escalation_step s JOIN accountability.escalation_case c ON c.id = s.case_id
WHERE c.category = $1 AND s.reason = $2 AND s.kind = 'urging_order'
"""
STEPS = "SELECT c.rectification_id, s.created_at" + STEPS_FROM
COUNT_STEPS = "SELECT count(*)" + STEPS_FROM


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()  # business dates are Shanghai's


async def seed(stack: Stack, count: int, *, category: str, status: str, deadline_in_days: int) -> list[str]:
    """``count`` rectifications of findings in ``category``; their ids."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        counties = [
            r["code"] for r in await conn.fetch("SELECT code FROM common.division WHERE level = 'county'")
        ]
        today = _today()
        async with conn.transaction():
            await conn.execute(
                SEED,
                counties,
                count,
                category,
                status,
                f"{category}-",
                today - timedelta(days=30),
                today + timedelta(days=deadline_in_days),
            )
        return [str(r["id"]) for r in await conn.fetch(CASES, category)]
    finally:
        await conn.close()


@dataclass(frozen=True)
class Loop:
    api: Service
    workers: list[Process]


@contextmanager
def running(stack: Stack, accountability_workers: int = 2) -> Iterator[Loop]:
    """School-inspection's API and worker and the accountability workers, for the loop's duration."""
    api = stack.serve("school_inspection.main:app", "school-inspection api")
    workers = [stack.worker("school_inspection")]
    workers += [stack.worker("accountability", i) for i in range(accountability_workers)]
    try:
        time.sleep(3)  # the workers declare their durable consumers before the first event
        stack.check_alive(*workers)
        yield Loop(api, workers)
    finally:
        stack.stop(api.process, *workers)


async def _reject_paced(api: Service, token: str, ids: list[str], rate: float) -> dict[str, float]:
    """Reject each report over HTTP, ``rate`` per second, for at most twice the time that takes (plus
    half a minute); when each rejection sent had committed."""
    committed: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30) as client:
        started = time.perf_counter()
        give_up = started + 2 * len(ids) / rate + 30
        for i, rectification_id in enumerate(ids):
            if time.perf_counter() > give_up:
                break
            response = await client.post(
                f"/v1/rectifications/{rectification_id}/reject", json={"reasons": "证据不足"}
            )
            if response.status_code != 200:
                raise RuntimeError(f"reject answered {response.status_code}: {response.text[:500]}")
            committed[rectification_id] = time.time()
            delay = started + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    return committed


async def _wait_for_steps(
    stack: Stack, category: str, reason: str, expected: int, budget: float, progress: float | None = None
) -> tuple[dict[str, datetime], float]:
    """The urging orders' commit times by rectification, once all ``expected`` are there or ``budget``
    seconds have passed, and the time the last count was taken."""
    conn = await asyncpg.connect(stack.database_url)
    deadline = time.monotonic() + budget
    reported = time.monotonic()
    try:
        while True:
            count = await conn.fetchval(COUNT_STEPS, category, reason)
            finished = time.time()
            if count >= expected or time.monotonic() > deadline:
                rows = await conn.fetch(STEPS, category, reason)
                return {str(r["rectification_id"]): r["created_at"] for r in rows}, finished
            if progress is not None and time.monotonic() - reported >= progress:
                print(f"  … {count:>7} of {expected} urging orders committed", flush=True)
                reported = time.monotonic()
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def measure_hop(
    stack: Stack, loop: Loop, *, cases: int, rate: float, budget: float, nats_p50: float, nats_p99: float
) -> tuple[dict[str, float], str | None]:
    ids = asyncio.run(seed(stack, cases, category="bench_reject", status="submitted", deadline_in_days=30))
    token = stack.token("supervision_office", REGION)
    committed = asyncio.run(_reject_paced(loop.api, token, ids, rate))
    steps, _ = asyncio.run(_wait_for_steps(stack, "bench_reject", "rejected", len(ids), budget))
    latencies = [steps[r].timestamp() - at for r, at in committed.items() if r in steps]
    if not latencies:
        raise RuntimeError(
            f"no urging order for {len(committed)} rejections within {budget:.0f} s; "
            + stack.last_error(*loop.workers)
        )
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    note = (
        None if len(latencies) == len(ids) else f"{len(latencies)} of {len(ids)} rejections escalated in time"
    )
    print(
        f"rejected → urging order committed                 p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
        f"({len(latencies)} cases at {rate:.0f}/s; goal p50 <= 10, p99 <= 50)",
        flush=True,
    )
    print(
        f"  ratio to raw NATS latency   p50 {p50 / nats_p50:7.1f}x   p99 {p99 / nats_p99:7.1f}x", flush=True
    )
    return {"hop_p50_ms": p50, "hop_p99_ms": p99, "hop_cases": len(latencies)}, note


def measure_sweep(
    stack: Stack, loop: Loop, *, count: int, budget: float, executemany_rate: float | None
) -> tuple[dict[str, float], str | None]:
    seeded_at = time.perf_counter()
    asyncio.run(seed(stack, count, category="bench_sweep", status="open", deadline_in_days=-1))
    print(
        f"overdue sweep: {count} rectifications past their deadline (seeded in "
        f"{time.perf_counter() - seeded_at:.1f} s); waiting for every urging order",
        flush=True,
    )
    started = time.time()
    steps, finished = asyncio.run(
        _wait_for_steps(stack, "bench_sweep", "overdue", count, budget, progress=10.0)
    )
    if not steps:
        raise RuntimeError(f"no urging order within {budget:.0f} s; " + stack.last_error(*loop.workers))
    rate = len(steps) / (finished - started)
    note = None if len(steps) >= count else f"{len(steps)} of {count} urging orders after {budget:.0f} s"
    ratio = f", {rate / executemany_rate:.4f}x raw executemany" if executemany_rate else ""
    print(
        f"overdue sweep end to end                          {rate:8.0f} urging orders/s "
        f"({len(steps)} in {finished - started:.0f} s{ratio}; goal >= 5,000)",
        flush=True,
    )
    return {"sweep_per_s": rate, "sweep_n": count}, note
