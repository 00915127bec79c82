"""Agencies and commissions (二五): the registry, commissions, keys bound to them, reports, quality
results and the office's review."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.auth.principal import Principal, Role
from dudao.clock import Clock
from dudao.common.models import ApiKey
from dudao.db import session_factory
from dudao.uow import UnitOfWork
from monitoring.agency import service
from monitoring.agency.models import Agency, AgencyReport, Commission, CommissionKey
from monitoring.collection.models import DataValue
from monitoring.db import kit
from tests.conftest import TokenFactory, bearer
from tests.monitoring.agency.conftest import COUNTY, NEIGHBOUR, Make, agency_body, commission_body

# The business date the services judge deadlines by (Asia/Shanghai), not the machine's.
TODAY = Clock().today()


YEAR = 2025


async def _count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model))).scalar_one()


def _principal(commissioned: dict[str, Any]) -> Principal:
    """The agency's key as the kit's authenticator makes it a principal."""
    key = commissioned["key"]
    return Principal(
        sub=f"apikey:{key['key_id']}",
        name="key",
        roles=frozenset({Role.AGENCY}),
        division=COUNTY,
        org=commissioned["agency_id"],
        kind="api_key",
        scope_divisions=(COUNTY,),
        scope_services=frozenset({"monitoring"}),
        scope_operations=frozenset({"read", "write"}),
        key_id=key["key_id"],
    )


async def test_contacts_are_sealed_and_shown_in_full_only_to_offices_and_the_agency(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    token: TokenFactory,
    engine: AsyncEngine,
    commissioned: Make,
) -> None:
    c = await commissioned()
    firm = c["agency"]
    assert firm["contacts"][0]["phone"] == "13812345678"
    assert not firm["contacts_masked"]
    async with engine.connect() as conn:
        sealed = (
            await conn.execute(select(Agency.contacts_sealed).where(Agency.id == firm["id"]))
        ).scalar_one()
    assert "13812345678" not in sealed
    assert "liminghua" not in sealed
    inspector = bearer(token("inspector", division="450100"))
    masked = (await monitoring.get(f"/v1/agencies/{firm['id']}", headers=inspector)).json()
    assert masked["contacts_masked"]
    assert masked["contacts"][0] == {"name": "李**", "phone": "138****5678", "email": "l***@example.cn"}
    own = await monitoring.get(f"/v1/agencies/{firm['id']}", headers=c["auth"])
    assert own.status_code == 200
    assert own.json()["contacts"][0]["phone"] == "13812345678"
    listed = (await monitoring.get("/v1/agencies", headers=c["auth"])).json()
    assert [a["id"] for a in listed["items"]] == [firm["id"]]
    other = await commissioned()
    assert (
        await monitoring.get(f"/v1/agencies/{other['agency']['id']}", headers=c["auth"])
    ).status_code == 404
    elsewhere = bearer(token("supervision_office", division="450200"))
    assert (await monitoring.get(f"/v1/agencies/{firm['id']}", headers=elsewhere)).status_code == 404
    async with engine.connect() as conn:  # the reads in full are audited, the masked one is not
        reads = await conn.execute(
            select(kit.audit_log.c.details["via"].astext).where(
                kit.audit_log.c.action == "agency.contacts_read", kit.audit_log.c.record_id == firm["id"]
            )
        )
    assert sorted(reads.scalars()) == ["detail", "list"]


async def test_a_bad_agency_gets_a_problem_naming_the_field_and_writes_nothing(
    monitoring: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine, agency: Make
) -> None:
    before = await _count(engine, Agency)
    bad = await monitoring.post("/v1/agencies", json=agency_body(credit_code="not-a-code"), headers=office)
    assert bad.status_code == 422
    assert any(e["field"].endswith("credit_code") for e in bad.json()["errors"])
    no_contacts = await monitoring.post("/v1/agencies", json=agency_body(contacts=[]), headers=office)
    assert no_contacts.status_code == 422
    assert await _count(engine, Agency) == before
    first = await agency()
    twice = await monitoring.post(
        "/v1/agencies", json=agency_body(credit_code=first["credit_code"]), headers=office
    )
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("agency-registered")
    assert await _count(engine, Agency) == before + 1


async def test_agency_changes_need_the_etag_they_read(
    monitoring: httpx.AsyncClient, office: dict[str, str], agency: Make
) -> None:
    firm = await agency()
    url = f"/v1/agencies/{firm['id']}"
    read = await monitoring.get(url, headers=office)
    change = {"contacts": [{"name": "王芳", "phone": "13900001111"}]}
    assert (await monitoring.patch(url, json=change, headers=office)).status_code == 428
    stale = {**office, "If-Match": '"000000000000-1"'}
    assert (await monitoring.patch(url, json=change, headers=stale)).status_code == 412
    done = await monitoring.patch(url, json=change, headers={**office, "If-Match": read.headers["ETag"]})
    assert done.status_code == 200, done.text
    assert done.json()["version"] == 2
    assert done.json()["contacts"] == [{"name": "王芳", "phone": "13900001111", "email": None}]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"divisions": ["450202"]}, "divisions"),  # another city's county
        ({"system_ids": ["0190a0a0-0000-7000-8000-000000000000"]}, "system_ids"),
        ({"unit_ids": [NEIGHBOUR]}, "unit_ids"),  # a county outside the commission's divisions
        ({"ends_on": "2020-01-01", "starts_on": "2019-01-01"}, "ends_on"),
    ],
)
async def test_a_bad_commission_names_the_field_and_writes_nothing(
    monitoring: httpx.AsyncClient,
    office: dict[str, str],
    engine: AsyncEngine,
    agency: Make,
    balanced: UUID,
    overrides: dict[str, Any],
    field: str,
) -> None:
    firm = await agency()
    before = await _count(engine, Commission)
    response = await monitoring.post(
        "/v1/commissions", json=commission_body(firm["id"], balanced, **overrides), headers=office
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await _count(engine, Commission) == before


async def test_the_key_is_scoped_to_monitoring_and_the_commission_and_expires_with_it(
    monitoring: httpx.AsyncClient,
    governance: httpx.AsyncClient,
    office: dict[str, str],
    engine: AsyncEngine,
    commissioned: Make,
) -> None:
    c = await commissioned()
    async with engine.connect() as conn:
        key = (await conn.execute(select(ApiKey.__table__).where(ApiKey.id == c["key"]["key_id"]))).one()
    ends = date.fromisoformat(c["ends_on"]) + timedelta(days=1)
    assert key.scope_services == ["monitoring"]
    assert key.scope_divisions == [COUNTY]
    assert key.roles == ["agency"]
    assert key.org == c["agency_id"]
    assert key.expires_at == datetime.fromisoformat(f"{ends.isoformat()}T00:00:00+08:00")
    assert (await governance.get("/v1/committees", headers=c["auth"])).status_code == 403
    listed = await monitoring.get(f"/v1/commissions/{c['id']}/keys", headers=office)
    assert [k["key_id"] for k in listed.json()["items"]] == [c["key"]["key_id"]]
    assert "key" not in listed.json()["items"][0]
    keys_before, bound_before = await _count(engine, ApiKey), await _count(engine, CommissionKey)
    late = (datetime.fromisoformat(c["ends_on"]) + timedelta(days=5)).isoformat() + "+08:00"
    refused = await monitoring.post(
        f"/v1/commissions/{c['id']}/keys", json={"expires_at": late}, headers=office
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "expires_at"
    assert (await _count(engine, ApiKey), await _count(engine, CommissionKey)) == (keys_before, bound_before)


async def test_a_key_of_one_commission_reaches_nothing_of_another_in_the_same_county(
    monitoring: httpx.AsyncClient, engine: AsyncEngine, commissioned: Make, kindergarten: UUID
) -> None:
    a = await commissioned(unit_ids=[COUNTY])
    b = await commissioned()
    assert (await monitoring.get(f"/v1/commissions/{a['id']}", headers=a["auth"])).status_code == 200
    assert (await monitoring.get(f"/v1/commissions/{b['id']}", headers=a["auth"])).status_code == 404
    listed = (await monitoring.get("/v1/commissions", headers=a["auth"])).json()
    assert [x["id"] for x in listed["items"]] == [a["id"]]
    b_deliverable = b["deliverables"][1]["id"]
    before = await _count(engine, AgencyReport)
    into_b = await monitoring.post(
        f"/v1/commissions/{b['id']}/deliverables/{b_deliverable}/reports",
        json={"text": "报告"},
        headers=a["auth"],
    )
    assert into_b.status_code == 404
    detail_b = await monitoring.get(
        f"/v1/commissions/{b['id']}/deliverables/{b_deliverable}", headers=a["auth"]
    )
    assert detail_b.status_code == 404
    assert await _count(engine, AgencyReport) == before

    async with session_factory(engine)() as session:
        uow = UnitOfWork(session=session, kit=kit, source="/test", clock=Clock())
        who = _principal(a)
        found = await service.require_commission(
            uow, who, system_id=UUID(a["system_ids"][0]), division_code=COUNTY
        )
        assert str(found.id) == a["id"]
        with pytest.raises(service.OutsideCommission):
            await service.require_commission(uow, who, system_id=kindergarten)
        with pytest.raises(service.OutsideCommission):
            await service.require_commission(uow, who, division_code=NEIGHBOUR)
        with pytest.raises(service.OutsideCommission):  # a school of the county that A does not list
            await service.require_commission(uow, who, unit_ids=["0190a0a0-0000-7000-8000-000000000001"])
        person = Principal(
            sub="u", name="u", roles=frozenset({Role.AGENCY}), division=COUNTY, org=a["agency_id"]
        )
        with pytest.raises(service.AgencyKeyRequired):
            await service.require_commission(uow, person)


async def test_a_commission_not_yet_in_force_refuses_its_key(
    monitoring: httpx.AsyncClient, commissioned: Make
) -> None:
    today = TODAY
    c = await commissioned(
        starts_on=(today + timedelta(days=5)).isoformat(),
        deliverables=[
            {"kind": "report", "title": "评估报告", "due_on": (today + timedelta(days=40)).isoformat()}
        ],
    )
    refused = await monitoring.get(f"/v1/commissions/{c['id']}", headers=c["auth"])
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("commission-not-in-force")


async def _results(monitoring: httpx.AsyncClient, c: dict[str, Any], **overrides: Any) -> httpx.Response:
    deliverable = c["deliverables"][0]
    assert deliverable["kind"] == "quality_results"
    body = {
        "text": "兴宁区2025年义务教育质量监测结果",
        "quality": {
            "system_id": c["system_ids"][0],
            "year": YEAR,
            "results": [
                {"county_code": COUNTY, "subject": "数学", "attainment_level": 3, "difference_rate": 0.12},
                {"county_code": COUNTY, "subject": "语文", "attainment_level": 4, "difference_rate": 0.08},
            ],
        },
        **overrides,
    }
    return await monitoring.post(
        f"/v1/commissions/{c['id']}/deliverables/{deliverable['id']}/reports", json=body, headers=c["auth"]
    )


async def test_bad_results_are_refused_naming_the_field(
    monitoring: httpx.AsyncClient, engine: AsyncEngine, commissioned: Make, kindergarten: UUID
) -> None:
    c = await commissioned()
    before = await _count(engine, AgencyReport)
    base = {"system_id": c["system_ids"][0], "year": YEAR}
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {
                "quality": {
                    **base,
                    "results": [
                        {
                            "county_code": NEIGHBOUR,
                            "subject": "数学",
                            "attainment_level": 3,
                            "difference_rate": 0.1,
                        }
                    ],
                }
            },
            "quality.results.0.county_code",
        ),
        (
            {
                "quality": {
                    **base,
                    "system_id": str(kindergarten),
                    "results": [
                        {
                            "county_code": COUNTY,
                            "subject": "数学",
                            "attainment_level": 3,
                            "difference_rate": 0.1,
                        }
                    ],
                }
            },
            "quality.system_id",
        ),
        ({"quality": None}, "quality"),
    ]
    for overrides, field in cases:
        response = await _results(monitoring, c, **overrides)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    rate = await _results(
        monitoring,
        c,
        quality={
            **base,
            "results": [
                {"county_code": COUNTY, "subject": "数学", "attainment_level": 3, "difference_rate": "0.1"}
            ],
        },
    )
    assert rate.status_code == 422
    assert await _count(engine, AgencyReport) == before


async def test_the_office_returns_then_accepts_results_which_become_the_countys_item_3_9(
    monitoring: httpx.AsyncClient, office: dict[str, str], engine: AsyncEngine, commissioned: Make
) -> None:
    c = await commissioned()
    key_id = c["key"]["key_id"]
    upload = await monitoring.post(
        "/v1/evidence",
        files={"file": ("监测报告.pdf", b"%PDF-1.4 results", "application/pdf")},
        headers=c["auth"],
    )
    assert upload.status_code == 201, upload.text
    first = await _results(
        monitoring,
        c,
        evidence_ids=[upload.json()["id"]],
        quality={
            "system_id": c["system_ids"][0],
            "year": YEAR,
            "results": [
                {"county_code": COUNTY, "subject": "数学", "attainment_level": 2, "difference_rate": 0.2}
            ],
        },
    )
    assert first.status_code == 201, first.text
    assert first.json()["key_id"] == key_id
    again = await _results(monitoring, c)
    assert again.status_code == 409  # awaiting review
    async with engine.connect() as conn:
        entry = (
            await conn.execute(
                select(kit.audit_log.c.actor, kit.audit_log.c.details).where(
                    kit.audit_log.c.action == "agency_report.submitted",
                    kit.audit_log.c.record_id == c["deliverables"][0]["id"],
                )
            )
        ).one()
    assert entry.actor == f"apikey:{key_id}"
    assert entry.details["key_id"] == key_id

    url = f"/v1/commissions/{c['id']}/deliverables/{c['deliverables'][0]['id']}"
    read = await monitoring.get(url, headers=office)
    tag = {**office, "If-Match": read.headers["ETag"]}
    bare = await monitoring.post(f"{url}/review", json={"decision": "return"}, headers=tag)
    assert bare.status_code == 422
    assert bare.json()["errors"][0]["field"] == "comments"
    returned = await monitoring.post(
        f"{url}/review", json={"decision": "return", "comments": "数学样本量不足，请补充"}, headers=tag
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["deliverable"]["status"] == "returned"
    seen = (await monitoring.get(url, headers=c["auth"])).json()
    assert seen["reviews"][0]["comments"] == "数学样本量不足，请补充"

    second = await _results(monitoring, c)
    assert second.status_code == 201, second.text
    read = await monitoring.get(url, headers=office)
    accepted = await monitoring.post(
        f"{url}/review", json={"decision": "accept"}, headers={**office, "If-Match": read.headers["ETag"]}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["quality_written"] == [{"county_code": COUNTY, "met": True}]
    async with engine.connect() as conn:
        value = (
            await conn.execute(
                select(DataValue.__table__).where(
                    DataValue.unit_id == COUNTY,
                    DataValue.element_code == "quality.3_9",
                    DataValue.year == YEAR,
                    DataValue.system_id == c["system_ids"][0],
                )
            )
        ).one()
    assert value.value == 1
    assert value.key_id == key_id  # data_value holds approved values only
    history = (await monitoring.get(url, headers=office)).json()
    assert [len(r["results"]) for r in history["reports"]] == [2, 1]
