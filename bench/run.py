"""Every benchmark in one run, beside the bare stack, on embedded PostgreSQL and NATS on free ports.

The bare stack: raw NATS publish→receive, raw PostgreSQL executemany, single-row commits and COPY, and
a bare FastAPI + asyncpg app. Then Dudao's write path (bench/write_path.py), the school register's
import, list and roster projection (bench/schools.py) and the escalation loop (bench/escalation.py),
each against its goal in issue 7. The services run as separate uvicorn and worker processes; the largest
resident set of any of them is reported too.

The last line is ``BENCH`` and one JSON object of the figures. A figure that cannot be measured is null,
with the reason under ``errors``; one measured before its time budget ran out is under ``partial``.

  make bench                          the full run (a sweep of 100,000)
  .venv/bin/python bench/run.py --quick   under 5 minutes (a sweep of 20,000, shorter load phases)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import balance
import baselines
import escalation
import ingest
import schools
import write_path
from stack import CITY, COUNTY, Stack

IMPORT_ROWS = 10_000
LIST_SCHOOLS = 50_000
REQUIRED = (
    "write_ratio",
    "write_p99_ratio",
    "hop_p50_ms",
    "hop_p99_ms",
    "sweep_per_s",
    "sweep_n",
    "import_rows_per_s",
    "copy_rows_per_s",
    "import_ratio_to_copy",
    "ingest_rows_per_s",
    "ingest_ratio_to_copy",
    "balance_all_counties_s",
    "list_p99_ms",
    "list_ratio",
    "projection_per_s",
    "rss_mb_max",
)


@dataclass(frozen=True)
class Profile:
    seconds: float  # measured per load phase, after the warm-up
    warmup: float
    insert_rows: int
    hop_cases: int
    sweep: int
    hop_budget: float  # seconds to wait for what is left once the offered load has been sent
    projection_budget: float
    sweep_budget: float


QUICK = Profile(5, 1, 5_000, 500, 20_000, 30, 45, 75)
FULL = Profile(10, 2, 20_000, 1_000, 100_000, 120, 900, 3600)


class Run:
    """The figures so far; a failing phase leaves its figures null and says why, and the run goes on."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] = dict.fromkeys(REQUIRED)
        self.errors: dict[str, str] = {}
        self.partial: dict[str, str] = {}

    def phase(self, name: str, measure: Callable[[], Any]) -> Any:
        print(f"\n== {name}", flush=True)
        try:
            result = measure()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"[:2000]
            print(f"   {name} not measured: {self.errors[name]}", flush=True)
            return None
        if isinstance(result, tuple):  # (figures, a note that the budget ran out)
            result, note = result
            if note:
                self.partial[name] = note
        if isinstance(result, dict):
            self.figures.update(result)
        return result

    def line(self, elapsed: float) -> str:
        figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in self.figures.items()}
        return "BENCH " + json.dumps(
            {**figures, "elapsed_s": round(elapsed), "errors": self.errors, "partial": self.partial},
            ensure_ascii=False,
        )


def _stop_on_term(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally, which stops the processes


def measure_baselines(stack: Stack, profile: Profile) -> dict[str, float]:
    nats_p50, nats_p99 = asyncio.run(baselines.nats_publish_to_receive(stack.nats.admin_url))
    executemany = asyncio.run(baselines.postgres_executemany_rate(stack.database_url))
    inserts = asyncio.run(baselines.postgres_insert_rate(stack.database_url, rows=profile.insert_rows))
    print(
        f"raw NATS JetStream publish→receive                p50 {nats_p50:7.2f} ms   p99 {nats_p99:7.2f} ms"
    )
    print(f"raw PostgreSQL executemany, 10,000 rows, 1 commit {executemany:8.0f} rows/s")
    print(f"raw PostgreSQL single-row commits, 8 connections  {inserts:8.0f} rows/s", flush=True)
    return {
        "nats_p50_ms": nats_p50,
        "nats_p99_ms": nats_p99,
        "executemany_rows_per_s": executemany,
        "insert_rows_per_s": inserts,
    }


def register(run: Run, stack: Stack, profile: Profile) -> None:
    """Import, seed to 50,000 schools and list, on one school-inspection API process."""
    api = stack.serve("school_inspection.main:app", "school-inspection api")
    try:
        city = stack.token("supervision_office", CITY)
        run.phase("import", lambda: schools.measure_import(stack, api, city, IMPORT_ROWS))
        run.phase(
            "seed", lambda: schools.seed_schools(stack, api, city, total=LIST_SCHOOLS, first=IMPORT_ROWS + 1)
        )
        county = stack.token("supervision_office", COUNTY)
        run.phase(
            "list",
            lambda: schools.measure_list(stack, api, county, seconds=profile.seconds, warmup=profile.warmup),
        )
    finally:
        stack.stop(api.process)


def loop(run: Run, stack: Stack, profile: Profile) -> None:
    with escalation.running(stack) as running:
        run.phase(
            "hop",
            lambda: escalation.measure_hop(
                stack,
                running,
                cases=profile.hop_cases,
                rate=50.0,
                budget=profile.hop_budget,
                nats_p50=run.figures.get("nats_p50_ms") or 1.0,
                nats_p99=run.figures.get("nats_p99_ms") or 1.0,
            ),
        )
        run.phase(
            "sweep",
            lambda: escalation.measure_sweep(
                stack,
                running,
                count=profile.sweep,
                budget=profile.sweep_budget,
                executemany_rate=run.figures.get("executemany_rows_per_s"),
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="under 5 minutes: a sweep of 20,000")
    args = parser.parse_args()
    profile = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _stop_on_term)
    started = time.monotonic()
    run = Run()
    run.figures["sweep_n"] = profile.sweep
    print(
        f"machine: {os.cpu_count()} cores, shared by the servers, the workers and the load generator; "
        f"{profile.seconds:.0f} s per load phase; a sweep of {profile.sweep}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="dudao-bench-") as scratch:
        stack = Stack(Path(scratch))
        try:
            run.phase("servers", stack.start)
            if "servers" not in run.errors:
                run.phase("migrate", stack.migrate)
                run.phase("bare stack", lambda: measure_baselines(stack, profile))
                run.phase(
                    "write path",
                    lambda: write_path.measure(stack, seconds=profile.seconds, warmup=profile.warmup),
                )
                run.phase("school register", lambda: register(run, stack, profile))
                run.phase(
                    "projection", lambda: schools.measure_projection(stack, budget=profile.projection_budget)
                )
                run.phase("ingest", lambda: ingest.run(stack, stack.token("supervision_office", CITY)))
                run.phase("balance", lambda: balance.run(stack))
                run.phase("escalation", lambda: loop(run, stack, profile))
            rss = stack.rss_by_process()
            for label, mb in sorted(rss.items()):
                print(f"largest resident set: {label:<28} {mb:7.1f} MB")
            run.figures["rss_mb_max"] = max(rss.values(), default=None)
        finally:
            try:
                stack.close()
            except Exception as exc:
                run.errors["stop"] = f"{type(exc).__name__}: {exc}"
            print("\n" + run.line(time.monotonic() - started), flush=True)


if __name__ == "__main__":
    main()
