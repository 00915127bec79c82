"""Ladders are versioned data: the most specific active one applies; a case keeps the one it began with."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from tests.accountability.conftest import (
    COUNTY_A,
    Desk,
    Rectification,
    case_of,
    escalated,
    person,
    steps_of,
    written,
)

ONE_CIRCULAR: list[dict[str, Any]] = [{"kind": "circular", "new_deadline_days": 5}]
TWO_STEPS: list[dict[str, Any]] = [
    {"kind": "interview", "new_deadline_days": 7},
    {"kind": "accountability_decision"},
]


def category() -> str:
    """A category no other test uses, so that its ladders change no other test's cases."""
    return f"cat-{secrets.token_hex(4)}"


async def create(
    accountability: httpx.AsyncClient, headers: dict[str, str], steps: list[dict[str, Any]], **scope: str
) -> dict[str, Any]:
    response = await accountability.post(
        "/v1/escalation/ladders", json={**scope, "steps": steps}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def ladder_of(desk: Desk, engine: AsyncEngine, rect: Rectification) -> UUID:
    await desk.deliver(rect.event("opened"))
    case = await case_of(engine, rect)
    assert case is not None
    return case.ladder_id


async def test_the_most_specific_active_ladder_applies(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    admin = person(settings, "platform_admin", division="450000")
    cat = category()
    by_category = await create(accountability, admin, ONE_CIRCULAR, finding_category=cat)
    by_both = await create(
        accountability, admin, ONE_CIRCULAR, finding_category=cat, division_prefix="451421"
    )
    # 崇左 (4514) is used by no other test: its prefix ladders apply to every category there.
    by_city = await create(accountability, admin, TWO_STEPS, division_prefix="4514")
    by_county = await create(accountability, admin, TWO_STEPS, division_prefix="451402")
    default = await ladder_of(desk, engine, Rectification())

    assert await ladder_of(desk, engine, Rectification(category=cat, division="451421")) == UUID(
        by_both["id"]
    )
    assert await ladder_of(desk, engine, Rectification(category=cat, division="451402")) == UUID(
        by_category["id"]
    )
    assert await ladder_of(desk, engine, Rectification(division="451402")) == UUID(by_county["id"])
    assert await ladder_of(desk, engine, Rectification(division="451423")) == UUID(by_city["id"])
    assert await ladder_of(desk, engine, Rectification(category=cat, division=COUNTY_A)) == UUID(
        by_category["id"]
    )
    assert default == UUID("01960000-0000-7000-8000-000000000001")  # the migration's default, version 1

    rect = Rectification(division="451423")
    case = await escalated(desk, engine, rect)
    assert [s.kind.value for s in await steps_of(engine, case.id)] == ["interview"]


async def test_a_new_version_applies_to_new_cases_and_open_cases_keep_theirs(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    admin = person(settings, "platform_admin", division="450000")
    cat = category()
    first = await create(accountability, admin, ONE_CIRCULAR, finding_category=cat)
    started = Rectification(category=cat)
    await desk.deliver(started.event("opened"))
    second = await create(accountability, admin, TWO_STEPS, finding_category=cat)
    assert (first["version"], second["version"]) == (1, 2)

    listed = await accountability.get(
        "/v1/escalation/ladders", params={"finding_category": cat}, headers=admin
    )
    assert [(ladder["version"], ladder["active"]) for ladder in listed.json()["items"]] == [
        (1, False),
        (2, True),
    ]

    later = Rectification(category=cat)
    await desk.open(later)
    for rect in (started, later):
        await desk.deliver(rect.event("overdue"))
    old_case, new_case = await case_of(engine, started), await case_of(engine, later)
    assert old_case is not None
    assert new_case is not None
    assert (old_case.ladder_version, new_case.ladder_version) == (1, 2)
    assert [s.kind.value for s in await steps_of(engine, old_case.id)] == ["circular"]
    assert [s.kind.value for s in await steps_of(engine, new_case.id)] == ["interview"]


async def test_an_office_versions_only_its_own_jurisdictions_ladders(
    accountability: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    county = person(settings, "supervision_office", division=COUNTY_A)
    cat = category()
    own = await create(accountability, county, ONE_CIRCULAR, finding_category=cat, division_prefix=COUNTY_A)
    assert own["division_prefix"] == COUNTY_A
    assert own["created_by"]

    before = await written(engine)
    for scope in ({"division_prefix": "4501"}, {"division_prefix": "450103"}, {}):
        body = {"finding_category": cat, **scope, "steps": ONE_CIRCULAR}
        refused = await accountability.post("/v1/escalation/ladders", json=body, headers=county)
        assert refused.status_code == 403, scope
    inspector = person(settings, "inspector", division=COUNTY_A)
    body = {"finding_category": cat, "division_prefix": COUNTY_A, "steps": ONE_CIRCULAR}
    assert (
        await accountability.post("/v1/escalation/ladders", json=body, headers=inspector)
    ).status_code == 403
    assert await written(engine) == before

    # Each office lists what can apply in its jurisdiction: not a neighbour's own ladders.
    neighbour = person(settings, "supervision_office", division="450103")
    seen = {
        ladder["id"]
        for ladder in (
            await accountability.get("/v1/escalation/ladders", params={"limit": 500}, headers=neighbour)
        ).json()["items"]
    }
    assert own["id"] not in seen
    assert "01960000-0000-7000-8000-000000000001" in seen


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": [{"kind": "accountability_decision"}, {"kind": "circular"}]}, "steps"),
        ({"steps": [{"kind": "accountability_decision", "new_deadline_days": 5}]}, "steps"),
        ({"steps": [{"kind": "public_flogging"}]}, "steps.0.kind"),
        ({"steps": [{"kind": "circular", "new_deadline_days": False}]}, "steps.0.new_deadline_days"),
        ({"steps": [{"kind": "circular", "new_deadline_days": "5"}]}, "steps.0.new_deadline_days"),
        ({"steps": [{"kind": "circular", "new_deadline_days": 0}]}, "steps.0.new_deadline_days"),
        ({"steps": ONE_CIRCULAR, "division_prefix": "45010"}, "division_prefix"),
        ({"steps": ONE_CIRCULAR, "finding_category": ""}, "finding_category"),
        ({"steps": ONE_CIRCULAR, "version": 7}, "version"),
    ],
)
async def test_an_invalid_ladder_gets_a_problem_and_writes_nothing(
    accountability: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    body: dict[str, Any],
    field: str,
) -> None:
    before = await written(engine)
    response = await accountability.post(
        "/v1/escalation/ladders", json=body, headers=person(settings, "platform_admin", division="450000")
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await written(engine) == before
