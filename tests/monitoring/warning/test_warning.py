"""Early warning over HTTP and the real stream: rules as data, alerts on every approval and at night,
once each, and the office's decision on them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.monitoring import SubmissionApproved
from dudao.db import session_factory
from dudao.events.consumer import Consumer, ConsumerRunner
from dudao.events.envelope import CloudEvent
from dudao.events.nats import connect
from dudao.events.relay import publish_envelope
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from monitoring.db import kit
from monitoring.main import spec
from monitoring.warning import scheduled
from monitoring.warning.models import WarningAlert, WarningRule
from tests.conftest import TokenFactory, bearer
from tests.kit.events.support import eventually, running
from tests.monitoring.warning.conftest import PutValues

COUNTY, OTHER_COUNTY = "450107", "450110"  # 西乡塘区, 武鸣区
Roster = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def office(token: TokenFactory) -> dict[str, str]:
    return bearer(token("supervision_office", division=COUNTY))


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url is not None
    nc = await connect(settings.nats_url, "tests-warning")
    yield nc.jetstream()
    await nc.close()


def threshold_rule(**changes: Any) -> dict[str, Any]:
    return {
        "code": f"test.low-floor-area-{secrets.token_hex(4)}",
        "name": "生均教学及辅助用房面积过低",
        "unit_kind": "school",
        "kind": "threshold",
        "expression": "teaching_floor_area / pupils",
        "operator": "lt",
        "bound": 2,
        **changes,
    }


async def count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_office_keeps_rules_as_data_and_bad_rules_write_nothing(
    monitoring: httpx.AsyncClient, office: dict[str, str], token: TokenFactory, monitoring_engine: AsyncEngine
) -> None:
    before = await count(monitoring_engine, WarningRule)
    bad = [
        (threshold_rule(operator=None), "operator"),
        (threshold_rule(expression="teaching_floor_area / / pupils"), "expression"),
        (threshold_rule(kind="outlier", outlier_method="sigma"), "operator"),
        (threshold_rule(kind="consistency", bound=None), "right_expression"),
        (threshold_rule(kind="registry", operator=None, unit_kind="county"), "unit_kind"),
        (threshold_rule(kind="outlier", operator=None, outlier_method="iqr", bound=-1), "bound"),
        (threshold_rule(bound=True), "bound"),
    ]
    for body, field in bad:
        response = await monitoring.post("/v1/warning/rules", json=body, headers=office)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    outside = await monitoring.post(
        "/v1/warning/rules", json=threshold_rule(division_code=OTHER_COUNTY), headers=office
    )
    assert outside.status_code == 403, outside.text
    assert await count(monitoring_engine, WarningRule) == before

    body = threshold_rule()
    created = await monitoring.post("/v1/warning/rules", json=body, headers=office)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert created.headers["Location"] == f"/v1/warning/rules/{rule['id']}"
    assert (rule["division_code"], rule["bound"], rule["active"]) == (COUNTY, 2.0, True)
    again = await monitoring.post("/v1/warning/rules", json=body, headers=office)
    assert again.status_code == 409, again.text

    path = f"/v1/warning/rules/{rule['id']}"
    unconditional = await monitoring.patch(path, json={"bound": 3}, headers=office)
    assert unconditional.status_code == 428, unconditional.text
    changed = await monitoring.patch(
        path, json={"bound": 3}, headers={**office, "If-Match": created.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["bound"], changed.json()["version"]) == (3.0, 2)
    stale = await monitoring.patch(
        path, json={"active": False}, headers={**office, "If-Match": created.headers["ETag"]}
    )
    assert stale.status_code == 412, stale.text
    nonsense = await monitoring.patch(
        path, json={"change_mode": "relative"}, headers={**office, "If-Match": changed.headers["ETag"]}
    )
    assert nonsense.status_code == 422, nonsense.text

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await monitoring.get(path, headers=elsewhere)).status_code == 404
    listed = await monitoring.get("/v1/warning/rules", params={"kind": "threshold"}, headers=office)
    assert rule["id"] in [r["id"] for r in listed.json()["items"]]


def _own_consumer() -> Consumer:
    [approved] = [c for c in spec.consumers if c.durable == "monitoring-warning-approved"]
    return Consumer(
        approved.event_type, f"{secrets.token_hex(4)}-{approved.durable}", handle_many=approved.handle_many
    )


async def _publish(js: JetStreamContext, event: SubmissionApproved) -> None:
    envelope = CloudEvent(
        id=str(uuid7()),
        source="/dudao/monitoring",
        type=event.event_type,
        subject=event.subject(),
        time=Clock().now(),
        data=event.model_dump(mode="json"),
        division=event.division,
    )
    await publish_envelope(js, event.event_type, envelope.model_dump(mode="json"), msg_id=envelope.id)


async def alerts_of(engine: AsyncEngine, rule_id: str) -> list[WarningAlert]:
    async with session_factory(engine)() as session:
        stmt = (
            select(WarningAlert).where(WarningAlert.rule_id == UUID(rule_id)).order_by(WarningAlert.unit_id)
        )
        return list((await session.execute(stmt)).scalars())


async def test_a_final_approval_raises_alerts_once_per_rule_unit_and_year(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    js: JetStreamContext,
    monitoring_engine: AsyncEngine,
    settings: Settings,
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
) -> None:
    year = 2021
    schools = [str(s["school_id"]) for s in await roster(5, COUNTY)]
    put = {
        s: {"pupils_primary": 500, "teaching_floor_area": 2500, "teachers_above_qualification": 30}
        for s in schools
    }
    put[schools[0]] = {"pupils_primary": 500, "teaching_floor_area": 500, "teachers_above_qualification": 30}
    put[schools[1]] = {"pupils_primary": 20, "teaching_floor_area": 100, "teachers_above_qualification": 30}
    await put_values(system_id, year - 1, COUNTY, {s: {"pupils_primary": 500} for s in schools})
    await put_values(system_id, year, COUNTY, put)
    rules = {}
    for name, body in {
        "low": threshold_rule(),
        "fell": threshold_rule(
            kind="change", expression="pupils", operator="lt", bound=-0.5, change_mode="relative"
        ),
        "odd": threshold_rule(
            kind="consistency",
            expression="teachers_above_qualification",
            operator="le",
            right_expression="pupils",
            bound=None,
        ),
    }.items():
        response = await monitoring.post("/v1/warning/rules", json=body, headers=office)
        assert response.status_code == 201, response.text
        rules[name] = response.json()

    events = [
        SubmissionApproved(
            division=COUNTY,
            submission_id=str(uuid7()),
            task_id=str(uuid7()),
            system_id=str(system_id),
            year=year,
            unit_kind="school",
            unit_id=s,
        )
        for s in schools[:2]
    ]
    for e in events:
        await _publish(js, e)
    runner = ConsumerRunner(
        session_factory(monitoring_engine), kit, js, [_own_consumer()], spec.event_source, Clock(), settings
    )

    async def raised() -> bool:
        return len(await alerts_of(monitoring_engine, rules["odd"]["id"])) == 1

    async with running(runner):
        await eventually(raised, what="the consistency alert")

    # The whole county is evaluated, once however many of its schools the batch approved.
    low = await alerts_of(monitoring_engine, rules["low"]["id"])
    assert sorted(a.unit_id for a in low) == sorted(schools[:1])
    [alert] = low
    assert (alert.division_code, alert.year, alert.status.value) == (COUNTY, year, "open")
    assert alert.details["values"] == {"pupils": 500.0, "teaching_floor_area": 500.0}
    assert "teaching_floor_area / pupils = 1" in alert.message
    [fell] = await alerts_of(monitoring_engine, rules["fell"]["id"])
    assert (fell.unit_id, fell.details["previous"], fell.details["current"]) == (schools[1], 500.0, 20.0)
    [odd] = await alerts_of(monitoring_engine, rules["odd"]["id"])
    assert odd.unit_id == schools[1]

    # The nightly run over the same values adds nothing: the alerts' ids derive from the fact.
    outbox = kit.outbox
    async with session_factory(monitoring_engine)() as session:
        announced = select(outbox.c.envelope["data"]["rule_code"].astext).where(
            outbox.c.envelope["data"]["alert_id"].astext == str(alert.id)
        )
        assert list((await session.execute(announced)).scalars()) == [rules["low"]["code"]]
        raised_events = select(func.count()).where(
            outbox.c.type == "dudao.monitoring.warning_alert.raised.v1"
        )
        events_before = await session.scalar(raised_events)
        uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
        night = datetime(year + 1, 3, 1, 2, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert await scheduled.nightly.run(uow, night) >= 0
        await uow.commit()
        assert await session.scalar(raised_events) == events_before
    assert len(await alerts_of(monitoring_engine, rules["low"]["id"])) == 1

    api = await monitoring.get(
        "/v1/warning/alerts", params={"rule_id": rules["low"]["id"], "year": year}, headers=office
    )
    assert api.status_code == 200, api.text
    [item] = api.json()["items"]
    assert (item["rule"]["code"], item["unit_id"], item["observed"]) == (
        rules["low"]["code"],
        schools[0],
        1.0,
    )


async def test_the_night_run_finds_what_approvals_did_not_trigger(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    monitoring_engine: AsyncEngine,
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
) -> None:
    today = Clock().today()
    [school] = [str(s["school_id"]) for s in await roster(1, COUNTY)]
    await put_values(
        system_id, today.year, COUNTY, {school: {"pupils_primary": 100, "teaching_floor_area": 10}}
    )
    created = await monitoring.post("/v1/warning/rules", json=threshold_rule(), headers=office)
    rule = created.json()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    night = noon.replace(hour=2)
    async with session_factory(monitoring_engine)() as session:
        uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
        assert await scheduled.nightly.run(uow, noon) == 0  # only in the night hour
        assert await alerts_of(monitoring_engine, rule["id"]) == []
        assert await scheduled.nightly.run(uow, night) >= 1
        await uow.commit()
    [alert] = await alerts_of(monitoring_engine, rule["id"])
    assert alert.unit_id == school


async def _alert(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
    year: int,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    [school] = await roster(1, COUNTY)
    await put_values(
        system_id,
        year,
        COUNTY,
        {str(school["school_id"]): {"pupils_primary": 100, "teaching_floor_area": 10}},
    )
    rule = (
        await monitoring.post("/v1/warning/rules", json=threshold_rule(severity="major"), headers=office)
    ).json()
    evaluated = await monitoring.post(
        "/v1/warning/evaluations", json={"year": year, "within": COUNTY}, headers=office
    )
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["alerts_raised"] >= 1
    listed = await monitoring.get("/v1/warning/alerts", params={"rule_id": rule["id"]}, headers=office)
    [alert] = listed.json()["items"]
    one = await monitoring.get(f"/v1/warning/alerts/{alert['id']}", headers=office)
    return one.json(), one.headers["ETag"], school


async def test_an_office_turns_an_alert_into_a_finding_at_the_school(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    token: TokenFactory,
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
) -> None:
    alert, tag, school = await _alert(monitoring, office, system_id, roster, put_values, 2019)
    path = f"/v1/warning/alerts/{alert['id']}/finding"
    body = {"requirement": "核实并改善教学用房条件", "deadline": {"days": 60}}
    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await monitoring.post(path, json=body, headers={**elsewhere, "If-Match": tag})).status_code == 404
    assert (await monitoring.post(path, json=body, headers=office)).status_code == 428
    bad = await monitoring.post(
        path, json={**body, "deadline": {"days": 0}}, headers={**office, "If-Match": tag}
    )
    assert bad.status_code == 422, bad.text

    raised = await monitoring.post(path, json=body, headers={**office, "If-Match": tag})
    assert raised.status_code == 201, raised.text
    decided = raised.json()
    assert decided["status"] == "finding_raised"
    assert raised.headers["Location"] == f"/v1/rectifications/{decided['rectification_id']}"
    rectification = await monitoring.get(raised.headers["Location"], headers=office)
    assert rectification.status_code == 200, rectification.text
    finding = rectification.json()["finding"]
    assert (finding["origin_kind"], finding["category"], finding["severity"]) == (
        "evaluation",
        "early_warning",
        "major",
    )
    assert (finding["unit_id"], finding["unit_kind"], finding["unit_name"]) == (
        school["school_code"],
        "school",
        school["name"],
    )
    assert alert["message"] in finding["description"]

    twice = await monitoring.post(path, json=body, headers={**office, "If-Match": raised.headers["ETag"]})
    assert twice.status_code == 409, twice.text


async def test_an_office_dismisses_an_alert_with_its_reason(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
) -> None:
    alert, tag, _ = await _alert(monitoring, office, system_id, roster, put_values, 2018)
    path = f"/v1/warning/alerts/{alert['id']}/dismissal"
    missing = await monitoring.post(path, json={}, headers={**office, "If-Match": tag})
    assert missing.status_code == 422, missing.text
    assert [e["field"] for e in missing.json()["errors"]] == ["reason"]
    unchanged = await monitoring.get(f"/v1/warning/alerts/{alert['id']}", headers=office)
    assert unchanged.json()["status"] == "open"

    dismissed = await monitoring.post(
        path, json={"reason": "学校正在改扩建，已核实"}, headers={**office, "If-Match": tag}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["dismissal_reason"]) == (
        "dismissed",
        "学校正在改扩建，已核实",
    )
    synced = await monitoring.get(
        "/v1/warning/alerts",
        params={"updated_since": alert["updated_at"], "status": "dismissed"},
        headers=office,
    )
    assert alert["id"] in [a["id"] for a in synced.json()["items"]]


async def test_the_seeded_cross_checks_flag_enrolment_that_differs_from_the_registry(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    monitoring_engine: AsyncEngine,
    system_id: UUID,
    roster: Roster,
    put_values: PutValues,
) -> None:
    year = 2017
    [kept, differs, unknown] = [
        str(s["school_id"])
        for s in [
            *await roster(1, COUNTY, enrolment=300, pupils_primary=300, pupils_junior=0, pupils_senior=0),
            *await roster(1, COUNTY, enrolment=300, pupils_primary=300, pupils_junior=0, pupils_senior=0),
            *await roster(1, COUNTY),  # known from version 1 of the school events only
        ]
    ]
    await put_values(
        system_id,
        year,
        COUNTY,
        {
            kept: {"pupils_primary": 310},
            differs: {"pupils_primary": 400, "teachers_above_qualification": 500},
            unknown: {"pupils_primary": 400},
        },
    )
    evaluated = await monitoring.post(
        "/v1/warning/evaluations", json={"year": year, "within": COUNTY}, headers=office
    )
    assert evaluated.status_code == 200, evaluated.text
    seeded = await monitoring.get("/v1/warning/rules", params={"kind": "registry"}, headers=office)
    assert seeded.json()["items"] == []  # the region's rules are the region's, applied in its counties
    found = await monitoring.get(
        "/v1/warning/alerts", params={"year": year, "within": COUNTY}, headers=office
    )
    # The region's seeded rules (other tests' rules of this county apply too, and are left out).
    by_rule = {
        (a["rule"]["code"], a["unit_id"]): a
        for a in found.json()["items"]
        if not a["rule"]["code"].startswith("test.")
    }
    registry = by_rule.pop(("cross.enrolment-differs-from-registry", differs))
    assert registry["details"] == {"reported": 400.0, "registry": 300}
    assert by_rule.pop(("cross.qualified-teachers-exceed-pupils", differs))["details"]["left"] == 500.0
    assert by_rule.pop(("cross.teachers-per-pupil-impossible", differs))["observed"] == 125.0
    assert by_rule == {}
