"""Documents: gapless official numbers, office abbreviations, interview records, circulars, decisions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from dudao.contracts.governance import SupervisionOfficeRecorded
from dudao.ids import uuid7
from tests.accountability.conftest import (
    COUNTY_A,
    COUNTY_B,
    HANDLERS,
    Desk,
    Rectification,
    case_of,
    consume,
    documents_of,
    escalated,
    own,
    person,
    publish,
    steps_of,
    written,
)


async def numbers(engine: AsyncEngine, *rectifications: Rectification) -> list[str | None]:
    out: list[str | None] = []
    for rect in rectifications:
        case = await case_of(engine, rect)
        assert case is not None
        out += [step.document.number for step in await steps_of(engine, case.id)]
    return out


async def test_document_numbers_are_gapless_per_office_kind_and_year_even_after_a_rollback(
    desk: Desk, engine: AsyncEngine
) -> None:
    office = "451321"  # 忻城县: no other test issues documents there
    year = desk.clock.today().year
    first, doomed, second = (Rectification(division=office, office=office) for _ in range(3))
    await desk.open(first, doomed, second)
    await desk.deliver(first.event("overdue"))
    async with desk.sessions() as session:
        uow = desk.uow(session)
        event = doomed.event("overdue")
        await HANDLERS[event.event_type]([event], uow)
        await uow.rollback()  # its urging order had drawn number 2
    await desk.deliver(second.event("overdue"))
    assert await numbers(engine, doomed) == []
    assert await numbers(engine, first, second) == [f"忻教督办〔{year}〕1号", f"忻教督办〔{year}〕2号"]

    # Interviews have a series of their own; so has every year.
    first.deadline += timedelta(days=1)
    await desk.deliver(first.event("overdue"))
    assert (await numbers(engine, first))[1] == f"忻教督谈〔{year}〕1号"
    desk.clock.set(datetime(year + 1, 1, 2, 9, tzinfo=BUSINESS_TZ))
    this_year, next_year = (Rectification(division=office, office=office) for _ in range(2))
    await desk.open(this_year, next_year)
    await desk.deliver(this_year.event("overdue"))
    await desk.deliver(next_year.event("overdue"))
    assert await numbers(engine, next_year) == [f"忻教督办〔{year + 1}〕2号"]


async def test_concurrent_steps_of_one_office_get_consecutive_numbers(
    desk: Desk, engine: AsyncEngine
) -> None:
    office = "451323"  # 武宣县
    year = desk.clock.today().year
    rectifications = [Rectification(division=office, office=office) for _ in range(8)]
    await desk.open(*rectifications)
    await asyncio.gather(*(desk.deliver(r.event("overdue")) for r in rectifications))
    issued = await numbers(engine, *rectifications)
    assert len(issued) == 8
    assert set(issued) == {f"武教督办〔{year}〕{n}号" for n in range(1, 9)}


def office_recorded(division: str, abbreviation: str, version: int) -> SupervisionOfficeRecorded:
    return SupervisionOfficeRecorded(
        division=division,
        office_id=f"office-{division}",
        name=f"{division}教育督导委员会办公室",
        abbreviation=abbreviation,
        version=version,
    )


async def test_numbers_use_the_abbreviation_governance_recorded_last(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    reader = person(settings, "inspector", division="450000")
    region = (await accountability.get("/v1/issuing-offices/450000", headers=reader)).json()
    assert region == {"division_code": "450000", "abbreviation": "桂教督", "name": None, "default": True}
    county = (await accountability.get(f"/v1/issuing-offices/{COUNTY_A}", headers=reader)).json()
    assert county["abbreviation"] == "兴教督"
    assert (await accountability.get("/v1/issuing-offices/459999", headers=reader)).status_code == 422

    # Accountability keeps no list of its own: governance is the one source.
    url = "/v1/issuing-offices/451322"  # 象州县
    city_office = person(settings, "supervision_office", division="451300")
    refused = await accountability.put(url, json={"abbreviation": "象州教督"}, headers=city_office)
    assert refused.status_code == 405

    await desk.deliver(office_recorded("451322", "象州教督", 2))
    await desk.deliver(office_recorded("451322", "象教督旧", 1))  # older: changes nothing
    await desk.deliver(office_recorded("451322", "象州教督", 2))  # redelivered: nothing either
    # Two offices may share one for a while (governance keeps them apart): the projection takes both.
    await desk.deliver(office_recorded("451324", "象州教督", 1))
    saved = (await accountability.get(url, headers=reader)).json()
    assert saved == {
        "division_code": "451322",
        "abbreviation": "象州教督",
        "name": "451322教育督导委员会办公室",
        "default": False,
    }

    rect = Rectification(division="451322", office="451322")
    await desk.open(rect)
    await desk.deliver(rect.event("overdue"))
    [number] = await numbers(engine, rect)
    assert number == f"象州教督办〔{desk.clock.today().year}〕1号"

    await desk.deliver(office_recorded("451322", "象督", 3))  # newer: numbers from now on use it
    assert (await accountability.get(url, headers=reader)).json()["abbreviation"] == "象督"


async def test_governance_office_records_reach_accountability_over_nats(
    accountability: httpx.AsyncClient, js: JetStreamContext, engine: AsyncEngine, settings: Settings
) -> None:
    division = "451302"  # 兴宾区: no other test records it
    consumers = own(SupervisionOfficeRecorded.event_type)
    for version, abbreviation in ((1, "宾教督"), (3, "兴宾教督"), (2, "宾督")):
        event = office_recorded(division, abbreviation, version)
        await publish(js, event, uuid7())
    await consume(js, engine, settings, consumers)
    reader = person(settings, "supervision_office", division="451300")
    office = (await accountability.get(f"/v1/issuing-offices/{division}", headers=reader)).json()
    assert office["abbreviation"] == "兴宾教督"


async def test_the_office_records_the_interview_and_whom_it_is_filed_with(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    rect = Rectification()
    case = await escalated(desk, engine, rect, 2)
    office = person(settings, "supervision_office", division=COUNTY_A)
    urging, interview = await documents_of(accountability, case.id, office)
    url = f"/v1/documents/{interview['id']}/interview-record"
    record = {"record": "约谈了校长，校长承诺两周内完成整改。"}

    assert (
        await accountability.post(url, json=record, headers=person(settings, "inspector", division=COUNTY_A))
    ).status_code == 403
    elsewhere = person(settings, "supervision_office", division=COUNTY_B)
    assert (await accountability.post(url, json=record, headers=elsewhere)).status_code == 404
    wrong = await accountability.post(
        f"/v1/documents/{urging['id']}/interview-record", json=record, headers=office
    )
    assert wrong.status_code == 409
    assert wrong.json()["type"] == "urn:dudao:problem:wrong-document-kind"

    done = await accountability.post(url, json=record, headers=office)
    assert done.status_code == 200, done.text
    details = done.json()["interview"]
    assert details["record"] == record["record"]
    assert details["held_at"] == details["scheduled_at"]
    assert details["filed_with"] == ["中共兴宁区委员会", "兴宁区人民政府", "兴宁区教育局"]
    again = await accountability.post(url, json=record, headers=office)
    assert again.status_code == 409


async def test_a_circular_is_published_once(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    rect = Rectification()
    case = await escalated(desk, engine, rect, 3)
    office = person(settings, "supervision_office", division=COUNTY_A)
    circular = (await documents_of(accountability, case.id, office))[2]
    assert circular["circular"]["recipients"] == ["中共兴宁区委员会", "兴宁区人民政府", "兴宁区教育局"]
    assert "不得评优评先、提拔使用或者转任重要职务" in circular["circular"]["recommendation"]
    assert circular["circular"]["published"] is False

    published = await accountability.post(f"/v1/documents/{circular['id']}/publish", headers=office)
    assert published.status_code == 200, published.text
    assert published.json()["circular"]["published"] is True
    assert published.json()["circular"]["published_at"]
    assert (
        await accountability.post(f"/v1/documents/{circular['id']}/publish", headers=office)
    ).status_code == 409


GOOD_DECISION: dict[str, Any] = {
    "target": "body",
    "form": "public_criticism",
    "persons": [{"name": "李四", "position": "分管副县长"}],
    "reasons": "整改不力，推诿扯皮。",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "disciplinary_sanction"}, "form"),  # a sanction is for people, not for a body
        ({"target": "person", "form": "resource_adjustment"}, "form"),
        ({"target": "everyone"}, "target"),
        ({"form": "execution"}, "form"),
        ({"persons": []}, "persons"),
        ({"persons": [{"name": "李四"}]}, "persons.0.position"),
        ({"reasons": False}, "reasons"),
        ({"reasons": ""}, "reasons"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_an_invalid_decision_gets_a_problem_and_writes_nothing(
    accountability: httpx.AsyncClient,
    desk: Desk,
    engine: AsyncEngine,
    settings: Settings,
    change: dict[str, Any],
    field: str,
) -> None:
    rect = Rectification()
    case = await escalated(desk, engine, rect, 4)
    office = person(settings, "supervision_office", division=COUNTY_A)
    decision = (await documents_of(accountability, case.id, office))[3]
    url = f"/v1/documents/{decision['id']}/decision"
    before = await written(engine)

    response = await accountability.post(url, json={**GOOD_DECISION, **change}, headers=office)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await written(engine) == before

    decided = await accountability.post(url, json=GOOD_DECISION, headers=office)
    assert decided.status_code == 200, decided.text
    assert (await accountability.post(url, json=GOOD_DECISION, headers=office)).status_code == 409
