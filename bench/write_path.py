"""The write path: what does Dudao's kit cost on top of FastAPI + asyncpg?

  (a) a bare FastAPI + asyncpg endpoint: two inserts in one transaction;
  (b) POST /v1/schools: bearer auth, strict validation, jurisdiction, the row + outbox + audit entry
      in one unit of work.

Both run under uvicorn (one process each, in turn) against the same PostgreSQL, driven by the same client
at the same concurrency. The goal is requests/s b/a >= 0.7 and p99 b/a <= 1.5. Run by bench/run.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

import loadgen
from schools import school
from stack import CITY, Stack


def school_body(prefix: str) -> Callable[[int], bytes]:
    """The n-th school to register, as JSON."""
    return lambda n: json.dumps(school(prefix, n), ensure_ascii=False).encode()


def measure(stack: Stack, *, seconds: float, warmup: float, concurrency: int = 32) -> dict[str, float]:
    load = loadgen.Load(concurrency, seconds, warmup)
    bare = stack.serve("bare_app:app", "bare app", service=False)
    try:
        target = loadgen.Target(bare.port, "/records", {}, school_body("1"))
        a = loadgen.measure("(a) bare FastAPI + asyncpg, 2 inserts", target, load)
    finally:
        stack.stop(bare.process)

    dudao = stack.serve("school_inspection.main:app", "school-inspection api")
    try:
        headers = {"Authorization": f"Bearer {stack.token('supervision_office', CITY)}"}
        probe = httpx.post(
            f"{dudao.url}/v1/schools",
            headers={**headers, "Content-Type": "application/json"},
            content=school_body("9")(1),
            timeout=30,
        )
        if probe.status_code != 201:
            raise RuntimeError(f"POST /v1/schools answered {probe.status_code}: {probe.text[:500]}")
        target = loadgen.Target(dudao.port, "/v1/schools", headers, school_body("2"))
        b = loadgen.measure("(b) Dudao POST /v1/schools (row+outbox+audit)", target, load)
    finally:
        stack.stop(dudao.process)
    return loadgen.compare("write", b, a, "goals: >= 0.70x req/s, p99 <= 1.5x")
