"""Supervision offices: one record per division, kept by the office itself; every version is an event,
the one source of the abbreviations document numbers use."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.db import kit
from governance.office.models import SupervisionOffice
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import assert_problem

CITY, COUNTY, OTHER_COUNTY, THIRD_COUNTY = (
    "451200",
    "451202",
    "451203",
    "451221",
)  # 河池市, 金城江区, 宜州区, 南丹县


def abbreviation() -> str:
    """Three random Chinese characters: abbreviations are unique across the suite's offices."""
    return "".join(chr(0x4E00 + secrets.randbelow(0x5000)) for _ in range(3))


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        offices = (await conn.execute(select(func.count()).select_from(SupervisionOffice))).scalar_one()
        outbox = (await conn.execute(select(func.count()).select_from(kit.outbox))).scalar_one()
        audit = (await conn.execute(select(func.count()).select_from(kit.audit_log))).scalar_one()
    return offices, outbox, audit


async def recorded_events(engine: AsyncEngine, office_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.envelope)
            .where(
                kit.outbox.c.type == "dudao.governance.office.recorded.v1",
                kit.outbox.c.envelope["data"]["office_id"].astext == office_id,
            )
            .order_by(kit.outbox.c.seq)
        )
    return [e["data"] for e in rows.scalars()]


async def test_an_office_records_itself_and_every_change_is_a_new_version_event(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    first = abbreviation()
    created = await governance.post(
        "/v1/supervision-offices",
        json={"division_code": COUNTY, "name": "金城江区人民政府教育督导委员会办公室", "abbreviation": first},
        headers=office,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["superior_division"], body["version"]) == (CITY, 1)
    assert created.headers["Location"] == f"/v1/supervision-offices/{body['id']}"

    second = abbreviation()
    changed = await governance.patch(
        f"/v1/supervision-offices/{body['id']}",
        json={"abbreviation": second},
        headers={**office, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    events = await recorded_events(engine, body["id"])
    assert [(e["abbreviation"], e["version"], e["division"]) for e in events] == [
        (first, 1, COUNTY),
        (second, 2, COUNTY),
    ]

    # Anyone within jurisdiction reads it; another county does not see it.
    inspector = bearer(token("inspector", division=CITY))
    assert (
        await governance.get(f"/v1/supervision-offices/{body['id']}", headers=inspector)
    ).status_code == 200
    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await governance.get(f"/v1/supervision-offices/{body['id']}", headers=elsewhere)
    assert_problem(hidden, 404, "supervision-office-not-found")
    synced = await governance.get(
        "/v1/supervision-offices", params={"updated_since": changed.json()["updated_at"]}, headers=inspector
    )
    assert [o["id"] for o in synced.json()["items"]] == [body["id"]]


async def test_only_the_office_itself_records_or_changes_it_and_bad_input_writes_nothing(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=OTHER_COUNTY))
    taken = abbreviation()
    created = await governance.post(
        "/v1/supervision-offices",
        json={"division_code": OTHER_COUNTY, "name": "宜州区教育督导委员会办公室", "abbreviation": taken},
        headers=office,
    )
    assert created.status_code == 201, created.text
    before = await counts(engine)

    city = bearer(token("supervision_office", division=CITY))
    good = {
        "division_code": THIRD_COUNTY,
        "name": "南丹县教育督导委员会办公室",
        "abbreviation": abbreviation(),
    }

    async def post(body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return await governance.post("/v1/supervision-offices", json=body, headers=headers)

    own = bearer(token("supervision_office", division=THIRD_COUNTY))
    assert_problem(await post(good, city), 403, "not-the-supervision-office")
    assert_problem(await post(good, office), 403, "division-outside-jurisdiction")
    assert_problem(await post({**good, "abbreviation": "NDJD"}, own), 422, "validation-error", "abbreviation")
    assert_problem(
        await post({**good, "division_code": "451299"}, own), 422, "invalid-division-code", "division_code"
    )
    assert_problem(await post({**good, "abbreviation": taken}, own), 409, "abbreviation-taken")
    twice = {**good, "division_code": OTHER_COUNTY}
    assert_problem(await post(twice, office), 409, "supervision-office-recorded")

    office_id = created.json()["id"]
    assert_problem(
        await governance.patch(
            f"/v1/supervision-offices/{office_id}",
            json={"name": "改名"},
            headers={**city, "If-Match": created.headers["ETag"]},
        ),
        403,
        "not-the-supervision-office",
    )
    mine = abbreviation()
    ours = await post({**good, "abbreviation": mine}, own)
    assert ours.status_code == 201, ours.text
    after_ours = await counts(engine)
    clash = await governance.patch(
        f"/v1/supervision-offices/{office_id}",
        json={"abbreviation": mine},
        headers={**office, "If-Match": created.headers["ETag"]},
    )
    assert_problem(clash, 409, "abbreviation-taken")
    stale = await governance.patch(
        f"/v1/supervision-offices/{office_id}",
        json={"name": "改名"},
        headers={**office, "If-Match": '"000000000000-1"'},
    )
    assert_problem(stale, 412, "precondition-failed")
    assert await counts(engine) == after_ours
    assert after_ours == (before[0] + 1, before[1] + 1, before[2] + 1)
