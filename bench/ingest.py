"""Monitoring's bulk submission at its limit: 100,000 values in one request, against COPY.

10,000 schools on monitoring's roster (inserted directly: the roster's projection is measured by
bench/schools.py) each submit the 10 base school elements of the seeded 2017 system in one CSV upload to
POST /v1/collection-tasks/{id}/submissions/bulk; beside it, a raw COPY of the rows the request wrote (the
submitted values, the submissions and their audit entries) into scratch tables shaped like theirs. The goal is
>= 0.3x COPY for the same rows. Run by bench/run.py.
"""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import asyncpg
import httpx

import baselines
from stack import CITY, COUNTIES, Service, Stack

SCHOOLS = 10_000
ELEMENTS = (
    "pupils_primary",
    "pupils_junior",
    "pupils_senior",
    "teachers_above_qualification",
    "key_teachers",
    "pe_arts_teachers",
    "teaching_floor_area",
    "sports_ground_area",
    "equipment_value",
    "multimedia_classrooms",
)


def _code(n: int) -> str:
    return f"9{n:09d}"  # 9…: no other benchmark's school codes start so


async def _seed_roster(database_url: str, schools: int) -> str:
    """The roster's schools, and the seeded 2017 system's id."""
    conn = await asyncpg.connect(database_url)
    try:
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "roster_school",
            schema_name="monitoring",
            records=[
                (
                    uuid4(),
                    _code(n),
                    f"基准监测学校{n}",
                    "nine_year",
                    "public",
                    COUNTIES[n % len(COUNTIES)],
                    1,
                    now,
                )
                for n in range(schools)
            ],
            columns=[
                "school_id",
                "school_code",
                "name",
                "school_type",
                "ownership",
                "division_code",
                "source_version",
                "synced_at",
            ],
        )
        system_id = await conn.fetchval(
            "SELECT id FROM monitoring.indicator_system WHERE key = 'balanced-2017' "
            "ORDER BY edition DESC LIMIT 1"
        )
    finally:
        await conn.close()
    if system_id is None:
        raise RuntimeError("the 2017 balanced-development system is not seeded")
    return str(system_id)


def _csv(schools: int) -> bytes:
    out = io.StringIO()
    out.write(",".join(("unit", *ELEMENTS)) + "\n")
    for n in range(schools):
        pupils = 400 + n % 900
        out.write(f"{_code(n)},{pupils},{pupils // 2},0,{40 + n % 30},{8 + n % 5},{6 + n % 4},")
        out.write(f"{pupils * 5.5:.1f},{pupils * 8},{pupils * 2300},{20 + n % 9}\n")
    return out.getvalue().encode()


def measure_ingest(stack: Stack, api: Service, token: str) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    system_id = asyncio.run(_seed_roster(stack.database_url, SCHOOLS))
    task = httpx.post(
        f"{api.url}/v1/collection-tasks",
        headers=headers,
        json={
            "system_id": system_id,
            "name": "基准：优质均衡数据采集",
            "year": 2025,
            "unit_kind": "school",
            "division_code": CITY,
            "elements": list(ELEMENTS),
            "due_on": (date.today() + timedelta(days=30)).isoformat(),
            "rules": [
                {"kind": "required", "element": "pupils_primary"},
                {
                    "kind": "compare",
                    "element": "key_teachers",
                    "operator": "<=",
                    "right_element": "teachers_above_qualification",
                },
            ],
        },
        timeout=60,
    )
    if task.status_code != 201:
        raise RuntimeError(f"issuing the task answered {task.status_code}: {task.text[:500]}")
    task_id = task.json()["id"]
    body = _csv(SCHOOLS)
    started = time.perf_counter()
    response = httpx.post(
        f"{api.url}/v1/collection-tasks/{task_id}/submissions/bulk",
        headers={**headers, "Content-Type": "text/csv"},
        content=body,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    values = SCHOOLS * len(ELEMENTS)
    if response.status_code != 200 or response.json().get("values") != values:
        raise RuntimeError(f"the bulk submission answered {response.status_code}: {response.text[:500]}")
    written, copy_seconds = asyncio.run(
        baselines.postgres_copy_seconds(
            stack.database_url,
            [
                (
                    "monitoring.submitted_value",
                    "SELECT v.* FROM monitoring.submitted_value v JOIN monitoring.submission s "
                    "ON s.id = v.submission_id WHERE s.task_id = $1::uuid",
                    task_id,
                ),
                (
                    "monitoring.submission",
                    "SELECT * FROM monitoring.submission WHERE task_id = $1::uuid",
                    task_id,
                ),
                (
                    "monitoring.audit_log",
                    "SELECT occurred_at, actor, actor_kind, action, record_type, record_id, division_code, "
                    "source_address, request_id, details FROM monitoring.audit_log "
                    "WHERE details->>'task_id' = $1",
                    task_id,
                ),
            ],
        )
    )
    rate, copy_rate = values / elapsed, written / copy_seconds
    ratio = (written / elapsed) / copy_rate
    print(f"raw PostgreSQL COPY of the {written} rows it wrote  {copy_rate:8.0f} rows/s", flush=True)
    print(
        f"POST …/submissions/bulk, {values} values (CSV)  {rate:8.0f} values/s ({elapsed:.2f} s, "
        f"{written / elapsed:.0f} rows/s), {ratio:.3f}x COPY (goal >= 0.3)",
        flush=True,
    )
    return {"ingest_rows_per_s": rate, "ingest_ratio_to_copy": ratio}


def run(stack: Stack, token: str) -> dict[str, float]:
    """The ingest on one monitoring API process of its own."""
    api = stack.serve("monitoring.main:app", "monitoring api")
    try:
        return measure_ingest(stack, api, token)
    finally:
        stack.stop(api.process)
