"""The school registry's fields: enrolment by stage (whose total is ``enrolment``) and the principal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.school_inspection.registry.conftest import assert_problem, counts, register, school_body

STAGES = {"kindergarten": 0, "primary": 0, "junior": 0, "senior": 0, "vocational": 0}


async def test_enrolment_is_the_total_of_the_stages_given(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    school = await register(
        inspection,
        office,
        school_type="nine_year",
        enrolment=None,
        enrolment_by_stage={"primary": 600, "junior": 450},
        principal={"name": "李校长", "phone": "0779-2021234"},
    )
    assert school["enrolment"] == 1050
    assert school["enrolment_by_stage"] == {**STAGES, "primary": 600, "junior": 450}
    assert school["principal"] == {"name": "李校长", "phone": "0779-2021234"}
    read = (await inspection.get(f"/v1/schools/{school['id']}", headers=office)).json()
    assert read["enrolment_by_stage"] == school["enrolment_by_stage"]


async def test_a_single_stage_school_given_a_total_has_it_in_its_stage_and_others_stay_unknown(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    primary = await register(inspection, office, enrolment=800)
    assert primary["enrolment_by_stage"] == {**STAGES, "primary": 800}
    assert primary["principal"] is None
    nine_year = await register(inspection, office, school_type="nine_year", enrolment=900)
    assert (nine_year["enrolment"], nine_year["enrolment_by_stage"]) == (900, None)
    empty = await register(inspection, office, enrolment=None)
    assert (empty["enrolment"], empty["enrolment_by_stage"]) == (0, {**STAGES})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"enrolment_by_stage": {"primary": 500, "junior": 10}}, "enrolment_by_stage.junior"),
        ({"school_type": "kindergarten", "enrolment_by_stage": {"primary": 5}}, "enrolment_by_stage.primary"),
        ({"enrolment": 100, "enrolment_by_stage": {"primary": 90}}, "enrolment"),
        ({"enrolment_by_stage": {"primary": -1}}, "enrolment_by_stage.primary"),
        ({"enrolment_by_stage": {"primary": False}}, "enrolment_by_stage.primary"),
        ({"enrolment_by_stage": {"primary": "500"}}, "enrolment_by_stage.primary"),
        ({"enrolment_by_stage": {"university": 5}}, "enrolment_by_stage.university"),
        ({"principal": {"name": "王校长", "phone": "12345678"}}, "principal.phone"),
        ({"principal": {"phone": "13800138000"}}, "principal.name"),
    ],
)
async def test_enrolment_that_does_not_fit_the_type_or_add_up_is_refused_and_writes_nothing(
    inspection: httpx.AsyncClient,
    office: dict[str, str],
    engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str,
) -> None:
    before = await counts(engine, "school")
    response = await inspection.post("/v1/schools", json=school_body(**overrides), headers=office)
    problem = assert_problem(response, 422)
    assert field in {e["field"] for e in problem["errors"]}
    assert await counts(engine, "school") == before


async def test_patching_stages_recomputes_the_total_and_a_new_type_must_fit_the_pupils(
    inspection: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine
) -> None:
    school = await register(inspection, office, enrolment=800)
    url, etag = f"/v1/schools/{school['id']}", None
    read = await inspection.get(url, headers=office)
    etag = read.headers["etag"]

    before = await counts(engine, "school")
    refused = await inspection.patch(
        url, json={"school_type": "junior"}, headers={**office, "If-Match": etag}
    )
    assert assert_problem(refused, 422, "enrolment-inconsistent")["errors"][0]["field"] == (
        "enrolment_by_stage.primary"
    )
    assert await counts(engine, "school") == before

    changed = await inspection.patch(
        url,
        json={"school_type": "nine_year", "enrolment_by_stage": {"primary": 700, "junior": 300}},
        headers={**office, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enrolment"] == 1000
    totalled = await inspection.patch(
        url, json={"enrolment": 1200}, headers={**office, "If-Match": changed.headers["etag"]}
    )
    # A multi-stage school given only a new total no longer knows its stages.
    assert (totalled.json()["enrolment"], totalled.json()["enrolment_by_stage"]) == (1200, None)
    principal = await inspection.patch(
        url, json={"principal": {"name": "新校长"}}, headers={**office, "If-Match": totalled.headers["etag"]}
    )
    assert principal.json()["principal"] == {"name": "新校长", "phone": None}
    assert principal.json()["enrolment"] == 1200
