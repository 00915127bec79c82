"""The four services in process, and real records of one county made through their APIs by the county's own
people: what the BOLA/BFLA matrix tries to reach as everyone else, and what schemathesis runs against."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from accountability.db import SCHEMA as ACCOUNTABILITY
from dudao.clock import clock
from dudao.config import Settings
from dudao.db import session_factory
from dudao.http.app import create_service_app
from school_inspection.draw import algorithm
from tests.accountability.conftest import Desk, Rectification, escalated, steps_of
from tests.conftest import TokenFactory, bearer, serve
from tests.governance.evaluation.support import default_scheme, next_year, upload_evidence
from tests.governance.unit.support import government_of, register_department
from tests.governance.unit.test_units import finding_at
from tests.kit.supervision.support import supervision_body
from tests.monitoring.agency.conftest import agency_body, commission_body
from tests.monitoring.balance.conftest import at_standard, county_items, monitoring_engine, seed, system_id
from tests.monitoring.collection.conftest import good_values, task_body
from tests.monitoring.indicator.test_endpoints import _definition
from tests.monitoring.survey.test_survey import survey_body
from tests.monitoring.warning.conftest import put_values
from tests.monitoring.warning.test_warning import threshold_rule
from tests.school_inspection.inspectors.support import appoint, assign
from tests.school_inspection.rectification.test_rectification import finding
from tests.school_inspection.registry.test_plates import plate
from tests.school_inspection.registry.test_principal_evaluations import evaluation
from tests.school_inspection.registry.test_self_supervision import report
from tests.school_inspection.visits.support import register_school, visit

# Fixtures of other folders' conftests, shared here by name: balanced development's seeded county (on
# monitoring's engine, with the seeded 2017 system) and early warning's approved values.
__all__ = ["monitoring_engine", "put_values", "seed", "system_id"]

OWNER, CITY = "450324", "450300"  # 全州县 and its city 桂林市: no other test's records live there
NEIGHBOUR = "450325"  # 兴安县, a county of the same city
OTHER_CITY = "450700"  # 钦州市
# In the owner's names and titles: a body that carries it has leaked the owner's data.
MARK = f"保密{secrets.token_hex(3)}"

Headers = dict[str, str]


@dataclass
class Owned:
    """One service's records of the owner's county: a real value for every id a path names."""

    service: str
    ids: dict[str, str]  # path parameter → a record's id
    # Where a parameter means another record on some paths: path template → its parameters.
    by_path: dict[str, dict[str, str]] = field(default_factory=dict)

    def parameters(self, path: str, names: list[str]) -> dict[str, str] | None:
        """The values for the path's parameters, or None if one is unknown."""
        known = {**self.ids, **self.by_path.get(path, {})}
        if not all(n in known for n in names):
            return None
        return {n: known[n] for n in names}


@pytest.fixture(scope="session")
def unlimited(settings: Settings) -> Settings:
    """The suite's settings without rate limits: every caller here comes from one address, and a matrix of
    refusals is a flood of failed authentications by design."""
    return settings.model_copy(
        update={
            "rate_limit_per_address": "1000000/minute",
            "rate_limit_per_api_key": "1000000/minute",
            "rate_limit_per_subject": "1000000/minute",
            "rate_limit_auth_failures": "1000000/minute",
        }
    )


@pytest.fixture(scope="session")
async def services(unlimited: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Every service of the suite (by its entry point) in process, by name."""
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for ep in entry_points(group="dudao.services"):
            spec = ep.load()
            clients[spec.name] = await stack.enter_async_context(serve(create_service_app(spec, unlimited)))
        yield clients


def office(token: TokenFactory, division: str) -> Headers:
    return bearer(token("supervision_office", division=division))


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def ensure_office(governance: httpx.AsyncClient, headers: Headers, division: str) -> str:
    """The division's supervision office, recorded if it is not yet."""
    body = {
        "division_code": division,
        "name": f"{division}教育督导委员会办公室",
        "abbreviation": "".join(chr(0x4E00 + secrets.randbelow(0x5000)) for _ in range(3)),
    }
    response = await governance.post("/v1/supervision-offices", json=body, headers=headers)
    if response.status_code == 201:
        return str(response.json()["id"])
    assert response.status_code == 409, response.text
    listed = await created(await governance.get("/v1/supervision-offices", headers=headers))
    (mine,) = [o for o in listed["items"] if o["division_code"] == division]
    return str(mine["id"])


async def governance_records(governance: httpx.AsyncClient, token: TokenFactory, settings: Settings) -> Owned:
    county, city = office(token, OWNER), office(token, CITY)
    admin = bearer(token("platform_admin", division="450000"))
    office_id = await ensure_office(governance, county, OWNER)
    await ensure_office(governance, city, CITY)
    government = await government_of(governance, county, OWNER)
    department = await register_department(governance, county, OWNER, name=f"{MARK}教育局")

    committee = await created(
        await governance.post(
            "/v1/committees",
            json={
                "division_code": OWNER,
                "name": f"{MARK}教育督导委员会",
                "office_id": office_id,
                "chair": {"name": "韦一", "post": "副县长"},
            },
            headers=county,
        )
    )
    base = f"/v1/committees/{committee['id']}"
    member = await created(
        await governance.post(
            f"{base}/members", json={"name": f"{MARK}纪委监委", "duties": "监督"}, headers=county
        )
    )
    liaison = await created(
        await governance.post(
            f"{base}/members/{member['id']}/liaisons",
            json={"name": f"{MARK}莫五", "post": "科长", "phone": "13877112345"},
            headers=county,
        )
    )
    filing = await created(
        await governance.post(
            "/v1/filings",
            json={
                "year": clock.today().year,
                "kind": "work_plan",
                "title": f"{MARK}工作计划",
                "content": "一",
            },
            headers=county,
        )
    )
    topic = await created(
        await governance.post(
            "/v1/special-topics",
            json={
                "code": f"sec_{secrets.token_hex(3)}",
                "name": f"{MARK}专项",
                "description": "专项督导",
                "checklist": [{"code": "C1", "text": "落实情况"}],
            },
            headers=county,
        )
    )
    emergency = await created(
        await governance.post(
            "/v1/emergency-supervisions",
            json={
                "incident": f"{MARK}突发事件",
                "description": "突发事件",
                "occurred_at": clock.now().isoformat(),
                "unit_ids": [government["id"]],
                "plan": "即赴现场",
            },
            headers=county,
        )
    )
    pupil = await created(
        await governance.post(
            "/v1/dropout/pupils",
            json={
                "name": f"{MARK}韦小明",
                "id_number": OWNER + "2014" + "".join(secrets.choice("0123456789") for _ in range(8)),
                "school_name": f"{MARK}初级中学",
                "grade": 8,
                "reason": "learning_difficulty",
                "status": "dropped_out",
                "left_on": "2026-01-05",
            },
            headers=county,
        )
    )
    target = await created(
        await governance.post(
            "/v1/dropout/targets",
            json={"division_code": OWNER, "year": 2030 + secrets.randbelow(70), "enrolled_pupils": 20_000},
            headers=city,
        )
    )
    scheme = await default_scheme(governance, city)
    evaluation_round = await created(
        await governance.post(
            "/v1/evaluation-rounds",
            json={
                "year": next_year(CITY),
                "title": f"{MARK}履行教育职责评价",
                "scheme_id": scheme["id"],
                "self_evaluation_due": (clock.today() + timedelta(days=30)).isoformat(),
                "unit_ids": [government["id"]],
            },
            headers=city,
        )
    )
    evaluations = await created(
        await governance.get(
            "/v1/duty-evaluations", params={"round_id": evaluation_round["id"]}, headers=city
        )
    )
    supervision = await created(
        await governance.post(
            "/v1/supervisions",
            json=supervision_body([government["id"]], title=f"{MARK}综合督导"),
            headers=county,
        )
    )
    rectification = await created(
        await governance.post("/v1/findings", json=finding_at(government), headers=county)
    )
    key = await created(
        await governance.post(
            "/v1/api-keys",
            json={"name": f"{MARK}数据报送", "org": "评估院", "roles": ["agency"], "division_code": OWNER},
            headers=admin,
        )
    )
    year = 2090 + secrets.randbelow(9)
    await created(
        await governance.post(
            "/v1/calendar/provisional-allowances", json={"division_code": OWNER, "year": year}, headers=county
        )
    )
    return Owned(
        "governance",
        ids={
            "key_id": key["id"],
            "year": str(year),
            "division_code": OWNER,
            "evidence_id": await upload_evidence(governance, county),
            "rectification_id": rectification["id"],
            "supervision_id": supervision["id"],
            "unit_id": government["id"],
            "office_id": office_id,
            "committee_id": committee["id"],
            "member_id": member["id"],
            "liaison_id": liaison["id"],
            "filing_id": filing["id"],
            "topic_id": topic["id"],
            "emergency_id": emergency["id"],
            "pupil_id": pupil["id"],
            "target_id": target["id"],
            "scheme_id": scheme["id"],
            "round_id": evaluation_round["id"],
            "evaluation_id": evaluations["items"][0]["id"],
        },
        by_path={"/v1/supervised-units/{unit_id}": {"unit_id": department["id"]}},
    )


async def inspection_records(inspection: httpx.AsyncClient, token: TokenFactory) -> Owned:
    county = office(token, OWNER)
    inspector_of_county = bearer(token("inspector", division=OWNER))
    await inspection.put(
        f"/v1/complaint-channels/{OWNER}", json={"phone": "0773-4812345"}, headers={**county, "If-Match": "*"}
    )
    school = await register_school(
        inspection,
        county,
        OWNER,
        name=f"{MARK}小学",
        principal={"name": f"{MARK}校长", "phone": "13877900001"},
    )
    school_id = school["id"]
    await created(await inspection.put(f"/v1/schools/{school_id}/plate", json=plate(), headers=county))
    inspector = await appoint(inspection, county, OWNER, name=f"{MARK}督学", employment="full_time")
    assignment = await created(await assign(inspection, county, inspector["id"], school_id))
    zone = await created(
        await inspection.post(
            "/v1/zones", json={"division_code": OWNER, "name": f"{MARK}责任区"}, headers=county
        )
    )
    await created(
        await inspection.post(
            f"/v1/zones/{zone['id']}/schools", json={"school_id": school_id}, headers=county
        )
    )
    # Its principal's evaluation, for the school's list of them.
    await created(
        await inspection.post(
            f"/v1/schools/{school_id}/principal-evaluations", json=evaluation(), headers=county
        )
    )
    school_staff = bearer(token("supervised_unit", division=OWNER, org=school["school_code"]))
    self_report = await created(
        await inspection.post(
            f"/v1/schools/{school_id}/self-supervision-reports", json=report(), headers=school_staff
        )
    )
    recorded = await created(
        await inspection.post(
            "/v1/visits", json=visit(school_id, [inspector["id"]]), headers=inspector_of_county
        )
    )
    seed = secrets.token_hex(32)
    draw = await created(
        await inspection.post(
            "/v1/draws",
            json={
                "division_code": OWNER,
                "purpose": f"{MARK}随机督导",
                "school_count": 1,
                "inspector_count": 1,
                "seed_hash": algorithm.seed_hash(seed),
                "inspector_ids": [inspector["id"]],
            },
            headers=county,
        )
    )
    # Revealed, so that its verification is there to read.
    await created(
        await inspection.post(f"/v1/draws/{draw['id']}/reveal", json={"seed": seed}, headers=county)
    )
    cycle = await created(
        await inspection.post(
            "/v1/cycles", json={"division_code": OWNER, "start_year": clock.today().year}, headers=county
        )
    )
    supervision = await created(
        await inspection.post(
            "/v1/supervisions", json=supervision_body([school_id], title=f"{MARK}综合督导"), headers=county
        )
    )
    rectification = await created(
        await inspection.post(
            "/v1/findings", json=finding(school["school_code"], division=OWNER), headers=inspector_of_county
        )
    )
    return Owned(
        "school-inspection",
        ids={
            "school_id": school_id,
            "school_code": school["school_code"],
            "evidence_id": await upload_evidence(inspection, county),
            "rectification_id": rectification["id"],
            "supervision_id": supervision["id"],
            "unit_id": school["school_code"],  # a school takes part in a supervision by its code
            "division_code": OWNER,
            "inspector_id": inspector["id"],
            "assignment_id": assignment["id"],
            "zone_id": zone["id"],
            "report_id": self_report["id"],
            "visit_id": recorded["id"],
            "draw_id": draw["id"],
            "cycle_id": cycle["id"],
        },
    )


async def monitoring_records(
    monitoring: httpx.AsyncClient,
    token: TokenFactory,
    system: UUID,
    seed: Callable[..., Awaitable[list[dict[str, Any]]]],
    put_values: Callable[..., Awaitable[None]],
) -> Owned:
    county = office(token, OWNER)
    [school] = await seed(OWNER, [({"name": f"{MARK}小学"}, at_standard(600))], county_items())
    verdicts = await created(
        await monitoring.post(
            "/v1/balance/evaluations", json={"year": 2025, "division_code": OWNER}, headers=county
        )
    )
    own_system = await created(
        await monitoring.post(
            "/v1/indicator-systems",
            json=_definition(
                f"sec-{secrets.token_hex(3)}",
                name=f"{MARK}指标体系",
                standards=[{"element": "ratio", "value": 4}],
                thresholds=[],
            ),
            headers=county,
        )
    )
    task = await created(
        await monitoring.post(
            "/v1/collection-tasks", json=task_body(system, name=f"{MARK}数据采集"), headers=county
        )
    )
    school_staff = bearer(token("supervised_unit", division=OWNER, org=school["school_code"]))
    submission = await created(
        await monitoring.post(
            f"/v1/collection-tasks/{task['id']}/submissions",
            json={"values": good_values()},
            headers=school_staff,
        )
    )
    agency = await created(
        await monitoring.post("/v1/agencies", json=agency_body(name=f"{MARK}评估院"), headers=county)
    )
    commission = await created(
        await monitoring.post(
            "/v1/commissions",
            json=commission_body(agency["id"], system, title=f"{MARK}质量监测", divisions=[OWNER]),
            headers=county,
        )
    )
    await put_values(
        system, 2025, OWNER, {str(school["school_id"]): {"pupils_primary": 100, "teaching_floor_area": 1}}
    )
    rule = await created(await monitoring.post("/v1/warning/rules", json=threshold_rule(), headers=county))
    await created(
        await monitoring.post("/v1/warning/evaluations", json={"year": 2025, "within": OWNER}, headers=county)
    )
    alerts = await created(
        await monitoring.get("/v1/warning/alerts", params={"rule_id": rule["id"]}, headers=county)
    )
    survey = await created(
        await monitoring.post(
            "/v1/surveys", json=survey_body(division_code=OWNER, title=f"{MARK}调查"), headers=county
        )
    )
    rectification = await created(
        await monitoring.post(
            "/v1/findings",
            json={
                **finding(school["school_code"], division=OWNER),
                "origin_kind": "evaluation",
                "category": "curriculum",
            },
            headers=county,
        )
    )
    return Owned(
        "monitoring",
        ids={
            "system_id": own_system["id"],
            "task_id": task["id"],
            "submission_id": submission["id"],
            "agency_id": agency["id"],
            "commission_id": commission["id"],
            "deliverable_id": commission["deliverables"][0]["id"],
            "verdict_id": verdicts["verdicts"][0]["id"],
            "county": OWNER,
            "evidence_id": await upload_evidence(monitoring, county),
            "rule_id": rule["id"],
            "alert_id": alerts["items"][0]["id"],
            "survey_id": survey["id"],
            "rectification_id": rectification["id"],
        },
    )


async def accountability_records(
    accountability: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> Owned:
    own_schema = engine.execution_options(schema_translate_map={None: ACCOUNTABILITY})
    desk = Desk(session_factory(own_schema))
    rect = Rectification(division=OWNER, office=OWNER, competent_department=f"{MARK}教育局")
    for kind in ("opened", "due_soon"):
        await desk.deliver(rect.event(kind))
    case = await escalated(desk, own_schema, rect)
    [step] = await steps_of(own_schema, case.id)
    unit = bearer(token("supervised_unit", division=OWNER, org=rect.unit_id))
    inbox = await created(await accountability.get("/v1/notifications", headers=unit))
    return Owned(
        "accountability",
        ids={
            "case_id": str(case.id),
            "document_id": str(step.document_id),
            "division_code": OWNER,
            "notification_id": inbox["items"][0]["id"],
        },
    )


@pytest.fixture
async def owned(
    request: pytest.FixtureRequest,
    services: dict[str, httpx.AsyncClient],
    token: TokenFactory,
    settings: Settings,
    engine: AsyncEngine,
    system_id: UUID,
    seed: Callable[..., Awaitable[list[dict[str, Any]]]],
    put_values: Callable[..., Awaitable[None]],
) -> Owned:
    """The owner's records in the service the test is parametrized with."""
    name: str = request.param
    client = services[name]
    if name == "governance":
        return await governance_records(client, token, settings)
    if name == "school-inspection":
        return await inspection_records(client, token)
    if name == "monitoring":
        return await monitoring_records(client, token, system_id, seed, put_values)
    assert name == "accountability", name
    return await accountability_records(client, token, engine)
