"""The indicator library over HTTP, and the reads the other monitoring domains make of it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.db import session_factory
from dudao.uow import UnitOfWork
from monitoring.db import kit
from monitoring.indicator import service
from monitoring.indicator.formula import parse
from monitoring.indicator.models import IndicatorSystem, Stage
from tests.conftest import TokenFactory, bearer

SYSTEMS = "/v1/indicator-systems"
CITY, COUNTY, OTHER_CITY = "450100", "450102", "450200"


@pytest.fixture
async def uow(engine: AsyncEngine) -> AsyncIterator[UnitOfWork]:
    async with session_factory(engine)() as session:
        yield UnitOfWork(session, kit, "/tests", Clock())


async def _count(engine: AsyncEngine, key: str | None = None) -> int:
    stmt = select(func.count()).select_from(IndicatorSystem)
    if key is not None:
        stmt = stmt.where(IndicatorSystem.key == key)
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


def _office(token: TokenFactory, division: str) -> dict[str, str]:
    return bearer(token("supervision_office", division=division))


async def _seeded(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> dict[str, Any]:
    page = await client.get(SYSTEMS, params={"key": key}, headers=headers)
    assert page.status_code == 200, page.text
    [summary] = page.json()["items"]
    found = await client.get(f"{SYSTEMS}/{summary['id']}", headers=headers)
    assert found.status_code == 200, found.text
    return dict(found.json())


def _definition(key: str | None = None, **changes: Any) -> dict[str, Any]:
    """A small three-level system: two base elements, a derived one over them, standards per prefix."""
    body: dict[str, Any] = {
        "name": "测试指标体系",
        "education_level": "compulsory",
        "level_names": ["一级", "二级", "三级"],
        "indicators": [
            {
                "code": "A",
                "name": "资源",
                "children": [
                    {
                        "code": "A1",
                        "name": "师资",
                        "children": [{"code": "A1a", "name": "生师比", "element": "ratio"}],
                    }
                ],
            }
        ],
        "elements": [
            {"code": "teachers", "name": "教师数", "unit": "人", "unit_kind": "school", "min_value": 0},
            {"code": "pupils", "name": "学生数", "unit": "人", "unit_kind": "school", "min_value": 0},
            {
                "code": "ratio",
                "name": "每百名学生教师数",
                "unit_kind": "school",
                "formula": "teachers / pupils * 100",
            },
        ],
        "standards": [
            {"element": "ratio", "stage": "primary", "value": 5},
            {"element": "ratio", "stage": "primary", "division_prefix": "4501", "value": "5.5"},
            {"element": "ratio", "stage": "primary", "division_prefix": COUNTY, "value": 6},
            {"element": "ratio", "value": 4},
        ],
        "thresholds": [
            {"code": "cv.primary", "value": "0.5"},
            {"code": "cv.primary", "value": "0.4", "division_prefix": COUNTY},
        ],
    }
    if key is not None:
        body["key"] = key
    body.update(changes)
    return body


def _key() -> str:
    return f"test-{secrets.token_hex(4)}"


# The seeds --------------------------------------------------------------------------------------------------


async def test_the_seeded_2017_system_holds_the_rules_of_balanced_development(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    system = await _seeded(monitoring, _office(token, COUNTY), "balanced-2017")
    assert (system["edition"], system["education_level"], system["document"]) == (
        1,
        "compulsory",
        "教督〔2017〕6号",
    )
    areas = {a["code"]: a for a in system["indicators"]}
    assert list(areas) == ["resource", "guarantee", "quality", "recognition", "veto"]
    assert [len(areas[a]["children"]) for a in areas] == [7, 15, 9, 1, 4]
    assert areas["guarantee"]["children"][0]["element"] == "guarantee.2_1"
    assert areas["quality"]["children"][8]["element"] == "quality.3_9"
    assert all(v["veto"] for v in areas["veto"]["children"])
    assert {v["element"] for v in areas["veto"]["children"]} == {
        "veto.exam_admission",
        "veto.irregular_choice",
        "veto.key_schools",
        "veto.recognition_below_bar",
    }
    standards = {(s["element_code"], s["stage"]): s for s in system["standards"]}
    expected = {1: ("4.2", "5.3"), 2: ("1.0", "1.0"), 3: ("0.9", "0.9"), 4: ("4.5", "5.8")}
    expected |= {5: ("7.5", "10.2"), 6: ("2000", "2500"), 7: ("2.3", "2.4")}
    for n, (primary, junior) in expected.items():
        assert Decimal(standards[(f"resource.{n}", "primary")]["value"]) == Decimal(primary)
        assert Decimal(standards[(f"resource.{n}", "junior")]["value"]) == Decimal(junior)
    recognition = standards[("recognition.4_1", None)]
    assert (recognition["comparison"], Decimal(recognition["value"])) == ("at_least", Decimal("0.85"))
    assert standards[("veto.key_schools", None)]["comparison"] == "equal"
    thresholds = {t["code"]: Decimal(t["value"]) for t in system["thresholds"]}
    assert thresholds["cv.primary"] == Decimal("0.50")
    assert thresholds["cv.junior"] == Decimal("0.45")
    assert (thresholds["school.indicators_met"], thresholds["school.floor_ratio"]) == (
        Decimal(6),
        Decimal("0.85"),
    )
    assert thresholds["weight.nine_year.junior"] == Decimal("1.1")
    assert thresholds["weight.complete_secondary.senior"] == Decimal("1.2")
    assert thresholds["weight.twelve_year.senior"] == Decimal("1.32")


async def test_the_seeded_kindergarten_guide_has_5_areas_15_key_indicators_and_48_points(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    school = bearer(token("supervised_unit", division=COUNTY, org=secrets.token_hex(4)))
    system = await _seeded(monitoring, school, "kindergarten-quality-2022")
    assert system["education_level"] == "kindergarten"
    assert system["level_names"] == ["评估内容", "关键指标", "考查要点"]
    areas = system["indicators"]
    assert [a["name"] for a in areas] == ["办园方向", "保育与安全", "教育过程", "环境创设", "教师队伍"]
    assert [len(a["children"]) for a in areas] == [3, 3, 3, 2, 4]
    points = [p for a in areas for k in a["children"] for p in k["children"]]
    assert len(points) == 48
    assert {p["level"] for p in points} == {3}


async def test_elements_list_by_kind_in_pages_with_their_formulas(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = bearer(token("inspector", division=COUNTY))
    system = await _seeded(monitoring, headers, "balanced-2017")
    url = f"{SYSTEMS}/{system['id']}/elements"
    first = (await monitoring.get(url, params={"kind": "derived", "limit": 5}, headers=headers)).json()
    rest = await monitoring.get(
        url, params={"kind": "derived", "limit": 5, "cursor": first["next_cursor"]}, headers=headers
    )
    derived = {e["code"]: e for e in first["items"] + rest.json()["items"]}
    assert rest.json()["next_cursor"] is None
    assert list(derived) == ["pupils", *(f"resource.{n}" for n in range(1, 8))]
    assert derived["resource.1"]["formula"] == "teachers_above_qualification / pupils * 100"
    assert derived["resource.4"]["formula"] == "teaching_floor_area / pupils"
    county = await monitoring.get(url, params={"unit_kind": "county", "limit": 100}, headers=headers)
    assert len(county.json()["items"]) == 15 + 9 + 1 + 4


async def test_evaluate_computes_a_school_over_the_2017_standards_and_writes_nothing(
    monitoring: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    headers = _office(token, COUNTY)
    system = await _seeded(monitoring, headers, "balanced-2017")
    school = {
        "pupils_primary": 500,
        "pupils_junior": 0,
        "pupils_senior": 0,
        "teachers_above_qualification": 21,  # 4.2 per 100: met
        "key_teachers": 4,  # 0.8 per 100: below 1.0
        "pe_arts_teachers": "5",
        "teaching_floor_area": 2300.5,
        "sports_ground_area": 3000,
        "equipment_value": 1_000_000,
        "multimedia_classrooms": 12,
    }
    before = await _count(engine)
    url = f"{SYSTEMS}/{system['id']}/evaluate"
    body = {"values": school, "division_code": COUNTY, "stage": "primary", "formula": "resource.2 / 1.0"}
    result = await monitoring.post(url, json=body, headers=headers)
    assert result.status_code == 200, result.text
    found = {e["element_code"]: e for e in result.json()["elements"]}
    assert Decimal(found["pupils"]["value"]) == 500
    assert (Decimal(found["resource.1"]["value"]), found["resource.1"]["met"]) == (Decimal("4.2"), True)
    assert (Decimal(found["resource.2"]["value"]), found["resource.2"]["met"]) == (Decimal("0.8"), False)
    assert Decimal(found["resource.4"]["value"]) == Decimal("4.601")
    assert Decimal(found["resource.2"]["standard"]["value"]) == 1
    assert Decimal(result.json()["formula"]["value"]) == Decimal("0.8")
    empty = await monitoring.post(url, json={"values": {**school, "pupils_primary": 0}}, headers=headers)
    resource = {e["element_code"]: e for e in empty.json()["elements"]}["resource.1"]
    assert resource["value"] is None
    assert resource["met"] is None
    assert resource["error"]["reason"] == "division_by_zero"
    assert await _count(engine) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"values": {"nonesuch": 1}}, "values.nonesuch"),
        ({"values": {"resource.1": 5}}, "values.resource.1"),
        ({"values": {"pupils_primary": -1}}, "values.pupils_primary"),
        ({"values": {"guarantee.2_1": 2}}, "values.guarantee.2_1"),
        ({"values": {}, "formula": "pupils_primary +"}, "formula"),
        ({"values": {}, "formula": "pupils_primary + nonesuch"}, "formula"),
        ({"values": {"pupils_primary": True}}, "values.pupils_primary"),
        ({"values": {"pupils_primary": "NaN"}}, "values.pupils_primary"),
    ],
)
async def test_evaluating_bad_values_is_refused_naming_the_field(
    monitoring: httpx.AsyncClient, token: TokenFactory, body: dict[str, Any], field: str
) -> None:
    headers = _office(token, COUNTY)
    system = await _seeded(monitoring, headers, "balanced-2017")
    refused = await monitoring.post(f"{SYSTEMS}/{system['id']}/evaluate", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert field in {e["field"] for e in refused.json()["errors"]}


# Recording -------------------------------------------------------------------------------------------------


async def test_an_office_records_a_system_its_jurisdiction_uses_and_no_other_sees(
    monitoring: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    key = _key()
    created = await monitoring.post(SYSTEMS, json=_definition(key), headers=_office(token, CITY))
    assert created.status_code == 201, created.text
    system = created.json()
    assert created.headers["Location"] == f"{SYSTEMS}/{system['id']}"
    assert created.headers["ETag"]
    assert (system["edition"], system["office_division"]) == (1, CITY)
    [top] = system["indicators"]
    assert top["children"][0]["children"][0] == {
        "code": "A1a",
        "name": "生师比",
        "level": 3,
        "element": "ratio",
        "veto": False,
        "description": None,
        "children": [],
    }
    below = await monitoring.get(f"{SYSTEMS}/{system['id']}", headers=_office(token, COUNTY))
    assert below.status_code == 200
    since = {"updated_since": system["created_at"], "limit": 500}
    synced = await monitoring.get(SYSTEMS, params=since, headers=_office(token, COUNTY))
    assert system["id"] in [s["id"] for s in synced.json()["items"]]
    seeded = await monitoring.get(
        SYSTEMS, params={**since, "key": "balanced-2017"}, headers=_office(token, COUNTY)
    )
    assert seeded.json()["items"] == []
    elsewhere = _office(token, OTHER_CITY)
    assert (await monitoring.get(f"{SYSTEMS}/{system['id']}", headers=elsewhere)).status_code == 404
    listed = await monitoring.get(SYSTEMS, params={"key": key}, headers=elsewhere)
    assert listed.json()["items"] == []
    async with engine.connect() as conn:
        audit = kit.audit_log.c
        actions = await conn.execute(select(audit.action).where(audit.record_id == system["id"]))
        assert actions.scalars().all() == ["indicator_system.recorded"]
        outbox = kit.outbox.c
        events = await conn.execute(
            select(outbox.envelope).where(outbox.envelope["subject"].astext == system["id"])
        )
        [event] = events.scalars().all()
    assert event["type"] == "dudao.monitoring.indicator_system.recorded.v1"
    assert event["data"] | {"division": CITY} == {
        "division": CITY,
        "system_id": system["id"],
        "key": key,
        "edition": 1,
        "education_level": "compulsory",
    }
    again = await monitoring.post(SYSTEMS, json=_definition(key), headers=_office(token, CITY))
    assert again.status_code == 409
    assert again.json()["type"].endswith("indicator-system-key-taken")


async def test_a_new_edition_needs_the_latest_etag_and_never_changes_the_old_one(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    office = _office(token, CITY)
    first = await monitoring.post(SYSTEMS, json=_definition(_key()), headers=office)
    url = f"{SYSTEMS}/{first.json()['id']}/editions"
    revised = _definition(name="测试指标体系（修订）")
    revised["standards"][0]["value"] = 7
    assert (await monitoring.post(url, json=revised, headers=office)).status_code == 428
    stale = {**office, "If-Match": '"000000000000-1"'}
    assert (await monitoring.post(url, json=revised, headers=stale)).status_code == 412
    county = {**_office(token, COUNTY), "If-Match": first.headers["ETag"]}
    assert (await monitoring.post(url, json=revised, headers=county)).status_code == 403
    second = await monitoring.post(url, json=revised, headers={**office, "If-Match": first.headers["ETag"]})
    assert second.status_code == 201, second.text
    assert (second.json()["edition"], second.json()["name"]) == (2, "测试指标体系（修订）")
    # Based on the first edition, which is no longer the latest: refused.
    late = await monitoring.post(url, json=revised, headers={**office, "If-Match": first.headers["ETag"]})
    assert late.status_code == 412
    old = await monitoring.get(f"{SYSTEMS}/{first.json()['id']}", headers=office)
    assert old.json() == first.json()
    newest = await monitoring.get(f"{SYSTEMS}/{second.json()['id']}", headers=office)
    assert newest.headers["ETag"] == second.headers["ETag"] != first.headers["ETag"]


def _invalid_cases() -> list[tuple[dict[str, Any], str]]:
    base = _definition()
    elements, indicators, standards = base["elements"], base["indicators"], base["standards"]

    def element(i: int, **changes: Any) -> list[dict[str, Any]]:
        return [*elements[:i], {**elements[i], **changes}, *elements[i + 1 :]]

    deep = [{**indicators[0], "children": [{"code": "B", "name": "b", "children": [
        {"code": "C", "name": "c", "children": [{"code": "D", "name": "d"}]}]}]}]  # fmt: skip
    cyclic = [*element(0, formula="ratio * 2")]
    return [
        ({"elements": element(2, formula="teachers / nonesuch")}, "elements.2.formula"),
        ({"elements": element(2, formula="teachers /")}, "elements.2.formula"),
        ({"elements": element(2, formula="__import__('os').system('x')")}, "elements.2.formula"),
        ({"elements": cyclic}, "elements.0.formula"),
        ({"elements": element(2, formula="ratio + 1")}, "elements.2.formula"),
        ({"elements": element(1, code="teachers")}, "elements.1.code"),
        ({"elements": element(0, min_value=5, max_value=1)}, "elements.0.max_value"),
        ({"elements": element(0, min_value=True)}, "elements.0.min_value"),
        ({"elements": element(0, unit_kind="pupil")}, "elements.0.unit_kind"),
        ({"elements": element(0, code="1abc")}, "elements.0.code"),
        ({"indicators": deep}, "indicators.0.children.0.children.0.children.0"),
        ({"indicators": [*indicators, {"code": "A", "name": "again"}]}, "indicators.1.code"),
        ({"indicators": [{"code": "Z", "name": "z", "element": "nonesuch"}]}, "indicators.0.element"),
        ({"indicators": []}, "indicators"),
        ({"standards": [*standards, {"element": "nonesuch", "value": 1}]}, "standards.4.element"),
        ({"standards": [*standards, standards[0]]}, "standards.4"),
        (
            {"standards": [{"element": "ratio", "division_prefix": "4502", "value": 1}]},
            "standards.0.division_prefix",
        ),
        ({"standards": [{"element": "ratio", "value": "abc"}]}, "standards.0.value"),
        ({"standards": [{"element": "ratio", "value": 1, "stage": "college"}]}, "standards.0.stage"),
        ({"thresholds": [{"code": "cv.primary", "value": 1}] * 2}, "thresholds.1"),
        ({"education_level": "nursery"}, "education_level"),
        ({"level_names": []}, "level_names"),
        ({"unknown": 1}, "unknown"),
    ]


@pytest.mark.parametrize(("changes", "field"), _invalid_cases())
async def test_a_system_that_does_not_hold_together_is_refused_naming_the_field_and_writes_nothing(
    monitoring: httpx.AsyncClient,
    token: TokenFactory,
    engine: AsyncEngine,
    changes: dict[str, Any],
    field: str,
) -> None:
    key = _key()
    before = await _count(engine)
    refused = await monitoring.post(SYSTEMS, json=_definition(key, **changes), headers=_office(token, CITY))
    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in refused.json()["errors"]}, refused.json()
    assert await _count(engine) == before


async def test_only_an_office_records_systems(monitoring: httpx.AsyncClient, token: TokenFactory) -> None:
    for role in ("inspector", "supervised_unit", "agency"):
        headers = bearer(token(role, division=CITY, org="x"))
        assert (await monitoring.post(SYSTEMS, json=_definition(_key()), headers=headers)).status_code == 403
    assert (await monitoring.get(SYSTEMS)).status_code == 401


# The reads of the other domains -----------------------------------------------------------------------------


async def test_the_most_specific_prefix_wins_for_standards_and_thresholds(
    monitoring: httpx.AsyncClient, token: TokenFactory, uow: UnitOfWork
) -> None:
    key = _key()
    created = await monitoring.post(SYSTEMS, json=_definition(key), headers=_office(token, CITY))
    system = await service.system_by_key(uow, key)
    assert str(system.id) == created.json()["id"]
    for division, primary in ((COUNTY, 6), ("450103", Decimal("5.5")), ("450201", 5)):
        found = await service.standards(uow, system.id, division)
        assert found[("ratio", Stage.PRIMARY)].value == primary
        assert found[("ratio", None)].value == 4
        assert service.standard_for(found, "ratio", Stage.JUNIOR) is found[("ratio", None)]
    assert (await service.thresholds(uow, system.id, COUNTY))["cv.primary"] == Decimal("0.4")
    assert (await service.thresholds(uow, system.id, "450103"))["cv.primary"] == Decimal("0.5")
    county = {"values": {"teachers": 11, "pupils": 200}, "division_code": COUNTY, "stage": "primary"}
    judged = await monitoring.post(
        f"{SYSTEMS}/{system.id}/evaluate", json=county, headers=_office(token, COUNTY)
    )
    [ratio] = [e for e in judged.json()["elements"] if e["element_code"] == "ratio"]
    assert Decimal(ratio["value"]) == Decimal("5.5")
    assert (Decimal(ratio["standard"]["value"]), ratio["met"]) == (Decimal(6), False)


async def test_the_reads_for_collection_and_balance(uow: UnitOfWork) -> None:
    system = await service.system_by_key(uow, "balanced-2017")
    assert (await service.system_by_key(uow, "balanced-2017", edition=1)).id == system.id
    with pytest.raises(service.SystemNotFound):
        await service.system_by_key(uow, "balanced-2017", edition=999)
    elements = await service.elements(uow, system.id)
    codes = [e.code for e in elements]
    assert codes[:3] == ["pupils_primary", "pupils_junior", "pupils_senior"]
    assert {"guarantee.2_15", "quality.3_9", "recognition.4_1", "veto.recognition_below_bar"} <= set(codes)
    formulas = service.formulas(elements)
    assert set(formulas) == {"pupils", *(f"resource.{n}" for n in range(1, 8))}
    assert formulas["resource.7"] == parse("multimedia_classrooms / pupils * 100")
    standards = await service.standards(uow, system.id, COUNTY)
    assert standards[("resource.5", Stage.JUNIOR)].value == Decimal("10.2")
    assert standards[("resource.1", Stage.PRIMARY)].met(Decimal("4.2"))
    assert not standards[("resource.1", Stage.PRIMARY)].met(Decimal("4.19"))
    assert standards[("veto.exam_admission", None)].met(Decimal(0))
    thresholds = await service.thresholds(uow, system.id, COUNTY)
    assert thresholds["weight.twelve_year.junior"] == Decimal("1.1")


async def test_an_agency_reads_systems_only_through_its_commissions_key(
    monitoring: httpx.AsyncClient, token: TokenFactory
) -> None:
    system = await _seeded(monitoring, _office(token, COUNTY), "balanced-2017")
    person = bearer(token("agency", division=COUNTY, org=secrets.token_hex(4)))
    for refused in (
        await monitoring.get(SYSTEMS, headers=person),
        await monitoring.get(f"{SYSTEMS}/{system['id']}", headers=person),
        await monitoring.get(f"{SYSTEMS}/{system['id']}/elements", headers=person),
        await monitoring.post(f"{SYSTEMS}/{system['id']}/evaluate", json={"values": {}}, headers=person),
    ):
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("agency-key-required")
