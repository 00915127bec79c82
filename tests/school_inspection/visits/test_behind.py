"""The routine-visit clock: policy data per jurisdiction, and one fact per school, semester and checkpoint."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.db import kit
from school_inspection.visit import service
from school_inspection.visit.models import Checkpoint
from school_inspection.visit.semesters import Boundaries, due_checkpoints
from tests.conftest import TokenFactory, bearer
from tests.school_inspection.visits.support import (
    Headers,
    assert_problem,
    at,
    counts,
    iso,
    new_inspector,
    register_school,
    system_uow,
    time_moved,
    visit,
)

COUNTY, STRICT_COUNTY, OTHER_COUNTY = "450512", "450521", "450503"  # 铁山港区, 合浦县, 银海区
DEFAULT = Boundaries(spring=(2, 1), autumn=(8, 1))
POLICY = {
    "routine_visits_per_semester": 4,
    "spring_starts": {"month": 3, "day": 1},
    "autumn_starts": {"month": 9, "day": 1},
    "comprehensive_cycle_years": 5,
}


def test_semesters_run_from_their_first_day_to_the_day_before_the_next() -> None:
    autumn = DEFAULT.semester_of(date(2027, 1, 31))
    assert (autumn.label, autumn.start, autumn.end) == ("2026-autumn", date(2026, 8, 1), date(2027, 1, 31))
    spring = DEFAULT.semester_of(date(2027, 2, 1))
    assert (spring.label, spring.start, spring.end) == ("2027-spring", date(2027, 2, 1), date(2027, 7, 31))
    assert spring.midpoint == date(2027, 5, 2)  # 1 February + 181 // 2 days
    assert DEFAULT.semester_of(date(2026, 11, 1)).midpoint == date(2026, 11, 1)


def test_the_midpoint_needs_half_the_visits_and_the_end_all_of_them() -> None:
    before_midpoint = due_checkpoints(DEFAULT, 3, date(2027, 5, 1))
    assert [(d.semester.label, d.checkpoint, d.needed) for d in before_midpoint] == [
        ("2026-autumn", Checkpoint.END, 3)
    ]
    after_midpoint = due_checkpoints(DEFAULT, 3, date(2027, 5, 2))
    assert [(d.semester.label, d.checkpoint, d.counted_before, d.needed) for d in after_midpoint] == [
        ("2026-autumn", Checkpoint.END, date(2027, 2, 1), 3),
        ("2027-spring", Checkpoint.MIDPOINT, date(2027, 5, 2), 2),
    ]


async def behind_facts(engine: AsyncEngine, school_id: str) -> list[tuple[str, str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.envelope["data"])
            .where(
                kit.outbox.c.type == "dudao.school-inspection.school.visits_behind.v1",
                kit.outbox.c.envelope["data"]["school_id"].astext == school_id,
            )
            .order_by(kit.outbox.c.seq)
        )
    return [(d["semester"], d["checkpoint"], d["visits"]) for d in rows.scalars()]


async def run_scheduler(engine: AsyncEngine) -> None:
    uow = system_uow(engine)
    try:
        await service.notice_behind(uow, clock.today())
        await uow.commit()
    finally:
        await uow.session.close()


@pytest.fixture(scope="module")
async def office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=COUNTY))


async def test_a_school_behind_is_one_fact_per_checkpoint_whatever_the_number_of_schedulers(
    inspection: httpx.AsyncClient, office: Headers, inspection_engine: AsyncEngine
) -> None:
    visited = await register_school(inspection, office, COUNTY, name="铁山港区访问小学")
    neglected = await register_school(inspection, office, COUNTY, name="铁山港区遗漏小学")
    inspector_id = await new_inspector(inspection, office, COUNTY)
    # The next semester, entirely after the schools were registered.
    semester = DEFAULT.semester_of(DEFAULT.semester_of(clock.today()).next_start)
    to_midpoint = timedelta(days=(semester.midpoint - clock.today()).days + 1)
    with time_moved(to_midpoint):
        started = at(semester.start + timedelta(days=3))
        body = visit(
            visited["id"],
            [inspector_id],
            started_at=iso(started),
            ended_at=iso(started + timedelta(hours=2)),
        )
        assert (await inspection.post("/v1/visits", json=body, headers=office)).status_code == 201
        late_comer = await register_school(inspection, office, COUNTY, name="铁山港区新建小学")

        # Two replicas at once: the second skips what the first holds; the facts are claimed once.
        first, second = system_uow(inspection_engine), system_uow(inspection_engine)
        try:
            await service.notice_behind(first, clock.today(), batch=3)  # batches until none is left
            await service.notice_behind(second, clock.today())
            await first.commit()
            await second.commit()
        finally:
            await first.session.close()
            await second.session.close()
        await run_scheduler(inspection_engine)

        assert await behind_facts(inspection_engine, neglected["id"]) == [(semester.label, "midpoint", 0)]
        assert await behind_facts(inspection_engine, visited["id"]) == []  # 1 of 2 by the midpoint: on time
        assert await behind_facts(inspection_engine, late_comer["id"]) == []  # registered mid-semester

        report = await inspection.get("/v1/visits/behind", params={"within": COUNTY}, headers=office)
        rows = {(r["school_id"], r["checkpoint"]): r for r in report.json()["items"]}
        row = rows[(neglected["id"], "midpoint")]
        assert (row["school_code"], row["visits"], row["required"]) == (neglected["school_code"], 0, 2)
        assert row["checkpoint_date"] == semester.midpoint.isoformat()
        assert (visited["id"], "midpoint") not in rows

    with time_moved(timedelta(days=(semester.next_start - clock.today()).days + 1)):
        await run_scheduler(inspection_engine)
        await run_scheduler(inspection_engine)
    assert await behind_facts(inspection_engine, neglected["id"]) == [
        (semester.label, "midpoint", 0),
        (semester.label, "end", 0),
    ]
    assert await behind_facts(inspection_engine, visited["id"]) == [(semester.label, "end", 1)]


async def test_a_jurisdictions_own_policy_sets_the_visits_and_the_semesters(
    inspection: httpx.AsyncClient, token: TokenFactory, inspection_engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=STRICT_COUNTY))
    created = await inspection.put(f"/v1/visit-policies/{STRICT_COUNTY}", json=POLICY, headers=office)
    assert created.status_code == 201, created.text
    assert created.json()["division_prefix"] == STRICT_COUNTY
    school = await register_school(inspection, office, STRICT_COUNTY)
    inspector_id = await new_inspector(inspection, office, STRICT_COUNTY)
    strict = Boundaries(spring=(3, 1), autumn=(9, 1))
    semester = strict.semester_of(strict.semester_of(clock.today()).next_start)
    with time_moved(timedelta(days=(semester.midpoint - clock.today()).days)):
        started = at(semester.start + timedelta(days=1))
        body = visit(
            school["id"], [inspector_id], started_at=iso(started), ended_at=iso(started + timedelta(hours=1))
        )
        assert (await inspection.post("/v1/visits", json=body, headers=office)).status_code == 201
        await run_scheduler(inspection_engine)
    # 1 visit of the 4 required by the midpoint of a semester that starts on 1 March or 1 September.
    assert await behind_facts(inspection_engine, school["id"]) == [(semester.label, "midpoint", 1)]
    assert semester.start.day == 1
    assert semester.start.month in (3, 9)


async def test_the_policy_in_force_is_the_longest_prefix_and_changes_need_if_match(
    inspection: httpx.AsyncClient, token: TokenFactory, inspection_engine: AsyncEngine
) -> None:
    city = bearer(token("supervision_office", division="451300"))
    county = bearer(token("inspector", division="451302"))
    default = await inspection.get("/v1/visit-policies/451302", headers=county)
    assert default.status_code == 200
    assert default.json()["division_prefix"] == ""
    assert default.json()["routine_visits_per_semester"] == 2
    assert default.json()["spring_starts"] == {"month": 2, "day": 1}
    assert default.json()["comprehensive_cycle_years"] == 5

    created = await inspection.put(
        "/v1/visit-policies/451300", json={**POLICY, "routine_visits_per_semester": 5}, headers=city
    )
    assert created.status_code == 201
    in_force = await inspection.get("/v1/visit-policies/451302", headers=county)
    assert (in_force.json()["division_prefix"], in_force.json()["routine_visits_per_semester"]) == ("4513", 5)

    before = await counts(inspection_engine)
    assert_problem(await inspection.put("/v1/visit-policies/451300", json=POLICY, headers=city), 428)
    stale = {**city, "If-Match": '"000000000000-1"'}
    assert_problem(await inspection.put("/v1/visit-policies/451300", json=POLICY, headers=stale), 412)
    assert await counts(inspection_engine) == before
    changed = await inspection.put(
        "/v1/visit-policies/451300", json=POLICY, headers={**city, "If-Match": created.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2

    outsider = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert_problem(await inspection.get("/v1/visit-policies/451302", headers=outsider), 404)
    assert_problem(await inspection.put("/v1/visit-policies/451302", json=POLICY, headers=outsider), 403)
    assert_problem(await inspection.put("/v1/visit-policies/451302", json=POLICY, headers=county), 403)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"routine_visits_per_semester": 0}, "routine_visits_per_semester"),
        ({"routine_visits_per_semester": False}, "routine_visits_per_semester"),
        ({"spring_starts": {"month": 2, "day": 29}}, "spring_starts"),
        ({"spring_starts": {"month": 13, "day": 1}}, "spring_starts.month"),
        ({"autumn_starts": {"month": 1, "day": 15}}, None),  # autumn before spring
        ({"comprehensive_cycle_years": "5"}, "comprehensive_cycle_years"),
    ],
)
async def test_bad_policies_get_a_problem_and_write_nothing(
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    inspection_engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str | None,
) -> None:
    office = bearer(token("supervision_office", division="451402"))
    before = await counts(inspection_engine)
    response = await inspection.put("/v1/visit-policies/451402", json={**POLICY, **overrides}, headers=office)
    assert_problem(response, 422)
    if field:
        assert field in {e["field"] for e in response.json()["errors"]}
    assert await counts(inspection_engine) == before


async def test_the_behind_report_is_jurisdiction_scoped_and_checks_its_filters(
    inspection: httpx.AsyncClient, token: TokenFactory, office: Headers
) -> None:
    outsider = bearer(token("inspector", division=OTHER_COUNTY))
    mine = await inspection.get("/v1/visits/behind", params={"limit": 500}, headers=office)
    theirs = await inspection.get("/v1/visits/behind", params={"limit": 500}, headers=outsider)
    assert all(r["division_code"] == COUNTY for r in mine.json()["items"])
    assert not {r["id"] for r in mine.json()["items"]} & {r["id"] for r in theirs.json()["items"]}
    assert_problem(
        await inspection.get("/v1/visits/behind", params={"semester": "2026-summer"}, headers=office), 422
    )
    assert_problem(
        await inspection.get("/v1/visits/behind", params={"checkpoint": "start"}, headers=office), 422
    )
