"""Bulk submission: JSON, CSV (UTF-8, GB18030) and .xlsx, applied whole or not at all with every bad cell
named; an agency's key submits its county's schools; each level approves the lot at once."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from monitoring.collection import repository as values
from monitoring.collection.importing import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from monitoring.collection.models import DataValue
from monitoring.indicator.models import IndicatorSystem
from tests.conftest import TokenFactory, bearer
from tests.monitoring.collection.conftest import (
    CITY,
    COUNTY,
    NEIGHBOUR,
    SCHOOL_ELEMENTS,
    YEAR,
    Schools,
    agency_key,
    counts,
    good_values,
    issue,
    task_body,
)

Office = Callable[[str], dict[str, str]]


def _csv(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    lines = [
        ",".join(["unit", *SCHOOL_ELEMENTS]),
        *(",".join("" if c is None else str(c) for c in r) for r in rows),
    ]
    return ("\n".join(lines) + "\n").encode(encoding)


def _row(school: dict[str, Any], primary: Any = 800) -> list[Any]:
    return [school["school_code"], primary, 400, 60, 10, 9000]


async def test_an_agency_submits_a_county_in_bulk_and_each_level_approves_it(
    monitoring: httpx.AsyncClient,
    office: Office,
    token: TokenFactory,
    system_id: UUID,
    schools: Schools,
    engine: AsyncEngine,
) -> None:
    mine = await schools(3)
    [neighbour] = await schools(1, NEIGHBOUR)
    task = await issue(monitoring, office(CITY), task_body(system_id))
    url = f"/v1/collection-tasks/{task['id']}/submissions/bulk"
    key = await agency_key(monitoring, office(COUNTY), system_id, [COUNTY])

    # Every bad cell named, whatever made it bad; nothing written.
    bad = _csv(
        [
            _row(mine[0], primary="八百"),
            [mine[1]["school_code"], 800, 400, 60, 70, 9000],  # more key teachers than qualified ones
            _row(mine[2], primary=None),  # required
            _row(neighbour),  # another county: outside the commission
            _row(mine[0]),  # twice
        ]
    )
    response = await monitoring.post(url, content=bad, headers={**key, "Content-Type": CSV_MEDIA_TYPE})
    assert response.status_code == 422, response.text
    cells = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert cells == {
        (2, "pupils_primary"),
        (3, "key_teachers"),
        (4, "pupils_primary"),
        (5, "unit"),
        (6, "unit"),
    }
    assert response.json()["error_count"] == 5
    assert await counts(engine, task["id"]) == (0, 0)

    # A person holding the agency role, without the key, may not.
    person = bearer(token("agency", division=COUNTY))
    denied = await monitoring.post(
        url, content=_csv([_row(mine[0])]), headers={**person, "Content-Type": CSV_MEDIA_TYPE}
    )
    assert denied.status_code == 403

    # GB18030, as Excel saves CSV on Chinese Windows.
    good = _csv([_row(s) for s in mine], encoding="gb18030")
    response = await monitoring.post(url, content=good, headers={**key, "Content-Type": CSV_MEDIA_TYPE})
    assert response.status_code == 200, response.text
    assert response.json() == {"units": 3, "values": 15, "created": 3, "resubmitted": 0}

    # The same units again as a workbook: resubmitted, each value replaced.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit", *SCHOOL_ELEMENTS])
    for s in mine:
        sheet.append([s["school_code"], 810, 400, 60, 10, 9000.25])
    data = io.BytesIO()
    book.save(data)
    response = await monitoring.post(
        url, content=data.getvalue(), headers={**key, "Content-Type": XLSX_MEDIA_TYPE}
    )
    assert response.status_code == 200, response.text
    assert response.json()["resubmitted"] == 3
    assert await counts(engine, task["id"]) == (3, 15)

    # JSON: rows count from 1; a bool is not a number.
    rows = [{"unit": mine[0]["school_code"], "values": {"pupils_primary": True}}]
    response = await monitoring.post(url, json={"rows": rows}, headers=key)
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(1, "pupils_primary")]

    # The county approves the lot, then the city, then the region.
    reviews = f"/v1/collection-tasks/{task['id']}/reviews"
    early = await monitoring.post(reviews, json={"decision": "approved"}, headers=office(CITY))
    assert early.json()["submissions"] == 0  # nothing awaits the city yet
    for level, division in (("county", COUNTY), ("city", CITY), ("region", "450000")):
        done = await monitoring.post(
            reviews, json={"decision": "approved", "within": COUNTY}, headers=office(division)
        )
        assert done.status_code == 200, done.text
        assert done.json() == {"level": level, "decision": "approved", "submissions": 3}

    async with AsyncSession(engine) as session:
        approved = await values.approved(session, system_id=system_id, year=YEAR, division_prefix=COUNTY)
    ours = {
        (r.unit_id, r.element_code): r.value
        for r in approved
        if r.unit_id in {str(s["school_id"]) for s in mine}
    }
    assert len(ours) == 15
    assert ours[str(mine[0]["school_id"]), "teaching_floor_area"] == 9000.25
    async with engine.connect() as conn:
        keyed = await conn.scalar(
            select(func.count())
            .select_from(DataValue)
            .where(
                DataValue.task_id == UUID(task["id"]),
                DataValue.key_id.is_not(None),
            )
        )
    assert keyed == 15  # every value says which key wrote it


async def test_a_named_batch_is_reviewed_whole_or_not_at_all(
    monitoring: httpx.AsyncClient, office: Office, system_id: UUID, schools: Schools
) -> None:
    mine = await schools(2)
    task = await issue(monitoring, office(CITY), task_body(system_id))
    body = {
        "rows": [
            {"unit": s["school_code"], "values": dict(zip(SCHOOL_ELEMENTS, [1, 1, 1, 1, 1], strict=True))}
            for s in mine
        ]
    }
    submitted = await monitoring.post(
        f"/v1/collection-tasks/{task['id']}/submissions/bulk", json=body, headers=office(COUNTY)
    )
    assert submitted.status_code == 200, submitted.text
    listed = await monitoring.get(f"/v1/collection-tasks/{task['id']}/submissions", headers=office(COUNTY))
    ids = [s["id"] for s in listed.json()["items"]]
    assert len(ids) == 2
    reviews = f"/v1/collection-tasks/{task['id']}/reviews"
    stranger = "0190b5c4-0000-7000-8000-000000000000"
    refused = await monitoring.post(
        reviews,
        json={"decision": "returned", "comment": "请核实", "submission_ids": [*ids, stranger]},
        headers=office(COUNTY),
    )
    assert refused.status_code == 409
    assert refused.json()["submission_ids"] == [stranger]
    returned = await monitoring.post(
        reviews,
        json={"decision": "returned", "comment": "请核实", "submission_ids": ids},
        headers=office(COUNTY),
    )
    assert returned.json()["submissions"] == 2
    again = await monitoring.get(
        f"/v1/collection-tasks/{task['id']}/submissions",
        params={"status": "returned"},
        headers=office(COUNTY),
    )
    assert {s["id"] for s in again.json()["items"]} == set(ids)


async def test_a_key_writes_and_reads_nothing_outside_its_commission(
    monitoring: httpx.AsyncClient,
    office: Office,
    token: TokenFactory,
    system_id: UUID,
    schools: Schools,
    engine: AsyncEngine,
) -> None:
    [ours] = await schools(1)
    [theirs] = await schools(1, NEIGHBOUR)
    task = await issue(monitoring, office(CITY), task_body(system_id))
    async with engine.connect() as conn:
        other_system = await conn.scalar(
            select(IndicatorSystem.id).where(IndicatorSystem.key == "kindergarten-quality-2022").limit(1)
        )
    assert other_system is not None
    elsewhere = await agency_key(monitoring, office(COUNTY), other_system, [COUNTY])
    url = f"/v1/collection-tasks/{task['id']}/submissions"
    values = {"unit": ours["school_code"], "values": good_values()}
    refused = await monitoring.post(url, json=values, headers=elsewhere)
    assert refused.status_code in (403, 404), refused.text  # its commission assesses another system

    key = await agency_key(monitoring, office(COUNTY), system_id, [COUNTY])
    neighbour = await monitoring.post(
        url, json={"unit": theirs["school_code"], "values": good_values()}, headers=office(NEIGHBOUR)
    )
    assert neighbour.status_code == 201
    outside = await monitoring.post(
        url, json={"unit": theirs["school_code"], "values": good_values()}, headers=key
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["column"] == "unit"
    assert (await monitoring.get(f"/v1/submissions/{neighbour.json()['id']}", headers=key)).status_code == 404
    mine = await monitoring.post(url, json=values, headers=key)
    assert mine.status_code == 201, mine.text
    assert mine.json()["key_id"] is not None
    listed = await monitoring.get(url, headers=key)
    assert [s["id"] for s in listed.json()["items"]] == [mine.json()["id"]]
