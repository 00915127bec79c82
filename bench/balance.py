"""Balanced development for the whole region: all 111 counties, 25,000 schools, evaluated at once.

In a database of its own (the other benchmarks' schools stay out of the count), migrated as ``dudao migrate``
does: 25,000 schools on monitoring's roster and their year's approved values (the seeded 2017 system's ten
base school elements) and each county's items, all by COPY. Then the evaluation of every county as the
service computes it for a region office's POST /v1/balance/evaluations, minus the writes: the reads (the
system, the pivoted values, the county items) and the computation. The goal is under 0.5 s. Run by
bench/run.py, or alone: ``.venv/bin/python bench/balance.py``.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg

from dudao.auth.principal import Principal, Role
from dudao.clock import Clock
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.dev import embedded
from dudao.divisions.tree import load_tree
from dudao.migrations import upgrade_all
from dudao.uow import UnitOfWork
from stack import REGION, Stack

DATABASE = "bench_balance"
SCHOOLS = 25_000
YEAR = 2024
RUNS = 5  # after one warm-up; the median is the figure
# Roster school types, as a Guangxi county's mix roughly is; a few are out of scope.
TYPES = [("primary", 70), ("junior", 15), ("nine_year", 9), ("complete_secondary", 2), ("twelve_year", 1)]
TYPES += [("special_education", 1), ("teaching_point", 2)]
# (base element, per, primary standard, junior standard): a school's values are drawn around them.
BASES = [
    ("teachers_above_qualification", 100, 4.2, 5.3),
    ("key_teachers", 100, 1.0, 1.0),
    ("pe_arts_teachers", 100, 0.9, 0.9),
    ("teaching_floor_area", 1, 4.5, 5.8),
    ("sports_ground_area", 1, 7.5, 10.2),
    ("equipment_value", 1, 2000, 2500),
    ("multimedia_classrooms", 100, 2.3, 2.4),
]
STAGES = {
    "primary": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
    "complete_secondary": ("junior", "senior"),
    "twelve_year": ("primary", "junior", "senior"),
    "special_education": ("primary",),
    "teaching_point": ("primary",),
}
COUNTY_ITEMS = [
    *(f"guarantee.2_{i}" for i in range(1, 16)),
    *(f"quality.3_{i}" for i in range(1, 10)),
    "recognition.4_1",
    "veto.exam_admission",
    "veto.irregular_choice",
    "veto.key_schools",
    "veto.recognition_below_bar",
]


def _school(
    rng: random.Random, n: int, county: str, system_id: UUID, now: datetime
) -> tuple[tuple, list[tuple]]:
    kind = rng.choices([t for t, _ in TYPES], [w for _, w in TYPES])[0]
    point = kind == "teaching_point"
    pupils = {s: rng.randint(20, 80) if point else rng.randint(150, 1800) for s in STAGES[kind]}
    school_id = uuid4()
    roster = (
        school_id,
        f"8{n:09d}",
        f"均衡基准学校{n}",
        "primary" if point else kind,
        "public",
        county,
        sum(pupils.values()),
        pupils.get("primary"),
        pupils.get("junior"),
        pupils.get("senior"),
        point,
        1,
        now,
    )
    values = {f"pupils_{s}": p for s, p in pupils.items()}
    total = sum(pupils.values())
    for code, per, primary, junior in BASES:
        standard = junior if "junior" in pupils and "primary" not in pupils else primary
        values[code] = round(standard * total / per * rng.uniform(0.75, 1.8), 2)
    rows = [
        (
            uuid4(),
            system_id,
            "school",
            str(school_id),
            county,
            YEAR,
            code,
            Decimal(str(v)),
            "bench",
            now,
            now,
        )
        for code, v in values.items()
    ]
    return roster, rows


async def _seed(database_url: str) -> int:
    """The schools and values; the number of schools the roster holds."""
    conn = await asyncpg.connect(database_url)
    try:
        system_id = await conn.fetchval(
            "SELECT id FROM monitoring.indicator_system WHERE key = 'balanced-2017' "
            "ORDER BY edition DESC LIMIT 1"
        )
        counties = [d.code for d in load_tree().within(REGION) if d.level == "county"]
        rng = random.Random(2017)
        now = datetime.now(UTC)
        roster, values = [], []
        for n in range(SCHOOLS):
            school, rows = _school(rng, n, counties[n % len(counties)], system_id, now)
            roster.append(school)
            values += rows
        for county in counties:
            for code in COUNTY_ITEMS:
                value = (
                    Decimal("0.9")
                    if code.startswith("recognition")
                    else Decimal(int(not code.startswith("veto")))
                )
                values.append(
                    (
                        uuid4(),
                        system_id,
                        "county",
                        county,
                        county,
                        YEAR,
                        code,
                        value,
                        "bench",
                        now,
                        now,
                    )
                )
        await conn.copy_records_to_table(
            "roster_school",
            schema_name="monitoring",
            records=roster,
            columns=[
                "school_id",
                "school_code",
                "name",
                "school_type",
                "ownership",
                "division_code",
                "enrolment",
                "pupils_primary",
                "pupils_junior",
                "pupils_senior",
                "teaching_point",
                "source_version",
                "synced_at",
            ],
        )
        await conn.copy_records_to_table(
            "data_value",
            schema_name="monitoring",
            records=values,
            columns=[
                "id",
                "system_id",
                "unit_kind",
                "unit_id",
                "division_code",
                "year",
                "element_code",
                "value",
                "submitted_by",
                "created_at",
                "updated_at",
            ],
        )
        await conn.execute("ANALYZE monitoring.roster_school; ANALYZE monitoring.data_value")
        return int(await conn.fetchval("SELECT count(*) FROM monitoring.roster_school"))
    finally:
        await conn.close()


async def _measure(database_url: str) -> dict[str, float]:
    # The benchmark runs monitoring's code in a development environment, named before that code loads:
    # its modules read their settings as they import, and refuse an unnamed environment.
    os.environ["DUDAO_ENVIRONMENT"] = "development"
    from monitoring.balance import service
    from monitoring.db import kit

    await asyncio.to_thread(upgrade_all, database_url)
    schools = await _seed(database_url)
    settings = Settings(database_url="postgresql+asyncpg://" + database_url.split("://", 1)[1])
    engine = create_engine(settings, application_name="bench-balance", schema=kit.schema)
    office = Principal(
        sub="bench", name="自治区教育督导办", roles=frozenset({Role.SUPERVISION_OFFICE}), division=REGION
    )
    divisions = load_tree()
    timings = []
    try:
        for _ in range(RUNS + 1):
            async with session_factory(engine)() as session:
                uow = UnitOfWork(session, kit, "/dudao/bench", Clock())
                started = time.perf_counter()
                system = await service.load_system(uow, "balanced-2017", None)
                results = await service.compute(uow, office, divisions, system, YEAR, REGION)
                timings.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    judged = sum(1 for verdict, _ in results for s in verdict.schools if s.stages)
    statuses = statistics.multimode(v.status.value for v, _ in results)
    took = statistics.median(timings[1:])
    print(
        f"balanced development, {len(results)} counties, {schools} schools ({judged} in scope): "
        f"{took * 1000:7.1f} ms (median of {RUNS}; most counties {'/'.join(statuses)})",
        flush=True,
    )
    if len(results) != 111 or schools != SCHOOLS:
        raise RuntimeError(f"evaluated {len(results)} counties over {schools} schools")
    return {"balance_all_counties_s": took}


def run(stack: Stack) -> dict[str, float]:
    embedded.create_database(stack.pg, DATABASE)
    return asyncio.run(_measure(stack.pg.url(DATABASE)))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="dudao-bench-balance-") as scratch:
        alone = Stack(Path(scratch))
        try:
            alone.start()
            print(run(alone))
        finally:
            alone.close()
