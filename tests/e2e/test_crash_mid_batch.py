"""Accountability's worker killed with SIGKILL in the middle of a sweep: every overdue fact still gets
exactly one step, and the document numbers have no gap and no repeat."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.dev.demo import Loop
from tests.conftest import TokenFactory
from tests.e2e.conftest import Suite, eventually

pytestmark = pytest.mark.e2e
COUNTY = "450105"  # 江南区: no other end-to-end test raises findings there
RECTIFICATIONS = 600

STEPS = text("""
    SELECT count(s.id) AS steps, count(DISTINCT c.id) AS cases
    FROM accountability.escalation_case c JOIN accountability.escalation_step s ON s.case_id = c.id
    WHERE c.rectification_id = ANY(:ids)
""")
SERIALS = text("""
    SELECT d.year, d.serial FROM accountability.document d
    WHERE d.office_division = :office AND d.kind = 'urging_order' AND d.serial IS NOT NULL
    ORDER BY d.year, d.serial
""")


async def test_a_worker_killed_mid_sweep_loses_no_fact_and_takes_none_twice(
    suite: Suite, token: TokenFactory, engine: AsyncEngine
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        loops = [Loop(suite.urls, client, token, county=COUNTY) for _ in range(RECTIFICATIONS)]
        for start in range(0, RECTIFICATIONS, 50):
            await asyncio.gather(*(loop.raise_finding(days=2) for loop in loops[start : start + 50]))
        ids = [loop.rectification_id for loop in loops]

        async def steps() -> tuple[int, int]:
            async with engine.connect() as conn:
                row = (await conn.execute(STEPS, {"ids": ids})).one()
            return row.steps, row.cases

        await loops[0].advance(days=3)

        async def begun() -> bool:
            return (await steps())[0] > 0

        await eventually(begun, within=60, interval=0.02)
        suite.kill("accountability-worker")
        taken_before_the_crash = (await steps())[0]
        suite.start_worker("accountability")

        async def all_taken() -> bool:
            return (await steps())[1] == RECTIFICATIONS

        await eventually(all_taken, within=180, interval=0.5)
        await asyncio.sleep(2)  # anything the crash left unacknowledged has been redelivered by now

    assert 0 < taken_before_the_crash < RECTIFICATIONS, "the crash came in the middle of the sweep"
    assert await steps() == (RECTIFICATIONS, RECTIFICATIONS)  # one step per fact, none twice
    by_year: dict[int, list[int]] = {}
    async with engine.connect() as conn:
        for row in await conn.execute(SERIALS, {"office": COUNTY}):
            by_year.setdefault(row.year, []).append(row.serial)
    for serials in by_year.values():  # gapless and unique, every year
        assert serials == list(range(1, len(serials) + 1))
    assert sum(map(len, by_year.values())) >= RECTIFICATIONS
