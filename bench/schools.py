"""The school register at scale: import, list, and a consumer projecting its events.

  1. Import: 10,000 schools through POST /v1/schools/import (one CSV upload), beside a raw COPY of the
     rows it wrote (schools, outbox, audit) into scratch tables shaped like theirs; the goal is >= 0.3x
     COPY for the same rows.
  2. List: GET /v1/schools?limit=50 as a county office among 50,000 schools (spread over a city's
     counties, registered through the import endpoint), 8 connections, beside a bare FastAPI + asyncpg
     endpoint returning the same 50 rows; the goals are p99 <= 20 ms and >= 0.5x the bare endpoint.
  3. Projection: monitoring's roster consumer catching up with every ``school.registered`` event on the
     stream, the monitoring worker running as a process; the goal is >= 5,000 events/s.
Run by bench/run.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Callable

import asyncpg
import httpx
import nats

import baselines
import loadgen
from stack import COUNTIES, COUNTY, Service, Stack

IMPORT_COLUMNS = ("school_code", "name", "school_type", "ownership", "division_code", "address", "enrolment")
STREAM = "DUDAO"


def school(prefix: str, n: int) -> dict[str, object]:
    """The n-th benchmark school; its code starts with ``prefix``, so that phases never collide."""
    return {
        "school_code": f"{prefix}{n:09d}",
        "name": f"基准测试学校{prefix}-{n}",
        "school_type": "primary",
        "ownership": "public",
        "division_code": COUNTIES[n % len(COUNTIES)],
        "address": "民族大道100号",
        "enrolment": 500 + n % 1000,
    }


def school_rows(first: int, count: int) -> list[dict[str, object]]:
    """Schools numbered ``first`` … as import rows; their codes start with 0, the write path's never do."""
    return [school("0", n) for n in range(first, first + count)]


def _csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, IMPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def import_file(api: Service, token: str, rows: list[dict[str, object]]) -> float:
    """POST the rows as one CSV file; the seconds it took."""
    started = time.perf_counter()
    response = httpx.post(
        f"{api.url}/v1/schools/import",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("schools.csv", _csv(rows), "text/csv")},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or response.json().get("rows") != len(rows):
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:500]}")
    return elapsed


async def _fetch_value(database_url: str, query: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        value: int = await conn.fetchval(query)
        return value
    finally:
        await conn.close()


def count_schools(stack: Stack) -> int:
    return asyncio.run(_fetch_value(stack.database_url, "SELECT count(*) FROM inspection.school"))


def measure_import(stack: Stack, api: Service, token: str, rows: int) -> dict[str, float]:
    """The import against a raw COPY of the very rows it wrote: the schools, their outbox rows and the
    audit entries (one per school, and the import's own)."""
    schools = school_rows(1, rows)
    elapsed = import_file(api, token, schools)
    written, copy_seconds = asyncio.run(
        baselines.postgres_copy_seconds(
            stack.database_url,
            [
                ("inspection.school", "SELECT * FROM inspection.school WHERE school_code LIKE $1", "0%"),
                (
                    "inspection.outbox",
                    "SELECT event_id, type, division_code, envelope FROM inspection.outbox "
                    "ORDER BY seq DESC LIMIT $1",
                    rows,
                ),
                (
                    "inspection.audit_log",
                    "SELECT occurred_at, actor, actor_kind, action, record_type, record_id, division_code, "
                    "source_address, request_id, details FROM inspection.audit_log "
                    "ORDER BY seq DESC LIMIT $1",
                    rows + 1,
                ),
            ],
        )
    )
    rate, copy_rate = rows / elapsed, written / copy_seconds
    ratio = (written / elapsed) / copy_rate
    print(f"raw PostgreSQL COPY of the {written} rows it wrote  {copy_rate:8.0f} rows/s", flush=True)
    print(
        f"POST /v1/schools/import, {rows} schools (CSV)    {rate:8.0f} schools/s ({elapsed:.2f} s, "
        f"{written / elapsed:.0f} rows/s), {ratio:.3f}x COPY (goal >= 0.3)",
        flush=True,
    )
    return {"import_rows_per_s": rate, "copy_rows_per_s": copy_rate, "import_ratio_to_copy": ratio}


def seed_schools(
    stack: Stack, api: Service, token: str, *, total: int, first: int, chunk: int = 20_000
) -> dict[str, int]:
    """Import schools numbered from ``first`` on until the register holds ``total``; how many it holds."""
    started = time.perf_counter()
    missing = max(total - count_schools(stack), 0)
    for offset in range(0, missing, chunk):
        import_file(api, token, school_rows(first + offset, min(chunk, missing - offset)))
    have = count_schools(stack)
    print(f"register seeded to {have} schools in {time.perf_counter() - started:.1f} s", flush=True)
    return {"list_schools": have}


def measure_list(
    stack: Stack, api: Service, token: str, *, seconds: float, warmup: float
) -> dict[str, float]:
    load = loadgen.Load(8, seconds, warmup)
    headers = {"Authorization": f"Bearer {token}"}
    page = httpx.get(f"{api.url}/v1/schools?limit=50", headers=headers, timeout=30)
    if page.status_code != 200:
        raise RuntimeError(f"GET /v1/schools answered {page.status_code}: {page.text[:500]}")
    dudao_ids = [item["id"] for item in page.json()["items"]]
    target = loadgen.Target(api.port, "/v1/schools?limit=50", headers)
    b = loadgen.measure("Dudao GET /v1/schools?limit=50, county office", target, load)

    bare = stack.serve("bare_app:app", "bare app", service=False)
    try:
        path = f"/schools?division={COUNTY}&limit=50"
        bare_ids = [item["id"] for item in httpx.get(bare.url + path, timeout=30).json()["items"]]
        if bare_ids != dudao_ids:
            print(f"  note: the bare page is not Dudao's ({len(bare_ids)} vs {len(dudao_ids)} rows)")
        a = loadgen.measure(
            "bare FastAPI + asyncpg, the same page", loadgen.Target(bare.port, path, {}), load
        )
    finally:
        stack.stop(bare.process)
    figures = loadgen.compare("list", b, a, "goals: >= 0.5x req/s, p99 <= 20 ms")
    print(f"  Dudao p99 {figures['list_p99_ms']:.1f} ms", flush=True)
    return figures


async def _registered_on_stream(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(STREAM, subjects_filter="dudao.>")
        return sum(n for s, n in (info.state.subjects or {}).items() if ".school.registered." in s)
    finally:
        await nc.close()


def wait_until(probe: Callable[[], int], expected: int, budget: float, every: float) -> tuple[int, float]:
    """Poll ``probe`` until it reaches ``expected`` or ``budget`` seconds pass; (last value, seconds)."""
    started = time.monotonic()
    while True:
        value = probe()
        elapsed = time.monotonic() - started
        if value >= expected or elapsed > budget:
            return value, elapsed
        time.sleep(every)


def measure_projection(stack: Stack, *, budget: float) -> tuple[dict[str, float], str | None]:
    """Events projected per second, and a note if the budget ran out before every row arrived."""
    expected = count_schools(stack)
    relay = stack.worker("school_inspection")
    started = [relay]
    try:

        def relayed() -> int:
            stack.check_alive(relay)
            return asyncio.run(_registered_on_stream(stack.nats.admin_url))

        on_stream, took = wait_until(relayed, expected, budget, 0.5)
        print(
            f"{on_stream} school.registered events on the stream after {took:.1f} s of relaying", flush=True
        )
        if on_stream < expected:
            raise RuntimeError(f"only {on_stream} of {expected} school.registered events reached the stream")
        monitoring = stack.worker("monitoring")
        started.append(monitoring)

        def projected() -> int:
            stack.check_alive(monitoring)
            return asyncio.run(
                _fetch_value(stack.database_url, "SELECT count(*) FROM monitoring.roster_school")
            )

        first, _ = wait_until(projected, 1, budget, 0.05)
        if not first:
            raise RuntimeError(f"no roster row within {budget:.0f} s: {stack.log_tail(monitoring)}")
        last, elapsed = wait_until(projected, expected, budget, 0.1)
    finally:
        stack.stop(*started)
    rate = (last - first) / elapsed if elapsed > 0 else 0.0
    note = None if last >= expected else f"{last} of {expected} roster rows after {elapsed:.0f} s"
    print(
        f"roster projection of school.registered              {rate:8.0f} events/s "
        f"({last - first} rows in {elapsed:.1f} s){'; ' + note if note else ''} (goal >= 5,000)",
        flush=True,
    )
    return {"projection_per_s": rate, "projection_n": expected}, note
