"""Monitoring across services, as an agency's client and the offices' portals drive it: an agency with a
key bound to one county's commission submits the year's school data in bulk; the county, the city and the
region approve it; the verdict is computed and its failing criterion opens a finding at the county
government that accountability urges once overdue; the same key reaches nothing of another county, nor of
another indicator system."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dudao.dev.calls import advance_clock
from dudao.dev.monitoring_act import ELEMENTS, BalanceMonitoring, schools_of
from tests.conftest import TokenFactory, bearer
from tests.e2e.conftest import Suite

pytestmark = pytest.mark.e2e
COUNTY, OTHER_COUNTY = "450321", "450323"  # 阳朔县, 灵川县 (桂林市): no other test's units


def _own_system(key: str) -> dict[str, Any]:
    """A county office's own small system on the same school elements: not the commission's."""
    return {
        "key": key,
        "name": "县域教师配备监测",
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
                        "children": [{"code": "A1a", "name": "骨干教师数", "element": "key_teachers"}],
                    }
                ],
            }
        ],
        "elements": [
            {"code": code, "name": code, "unit_kind": "school", "min_value": 0} for code in ELEMENTS
        ],
        "standards": [],
        "thresholds": [],
    }


async def test_an_agencys_bulk_data_is_approved_by_level_and_a_failing_county_is_urged(
    suite: Suite, token: TokenFactory
) -> None:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        act = BalanceMonitoring(suite.urls, client, token, COUNTY, "阳朔县")
        schools = schools_of(COUNTY)
        roster = await act.schools_registered(schools)
        assert sorted(r["pupils_primary"] for r in roster) == [400, 500, 600]
        system = await act.system()
        assert system["key"] == "balanced-2017"
        await act.agency_registered("桂林市教育评估监测中心")
        await act.commissioned("阳朔县义务教育优质均衡发展监测")
        year = await act.free_year()
        await act.task_issued("阳朔县义务教育优质均衡发展数据采集")

        # The key reads its own commission and the system it assesses, and submits the year in one CSV.
        commission = await client.get(
            act.url("monitoring", f"/v1/commissions/{act.commission_id}"), headers=act.key
        )
        assert commission.status_code == 200, commission.text
        systems = await client.get(act.url("monitoring", "/v1/indicator-systems"), headers=act.key)
        assert [s["id"] for s in systems.json()["items"]] == [act.system_id]
        bulk = await act.submitted_in_bulk(schools)
        assert bulk.status_code == 200, bulk.text
        assert bulk.json() == {"units": 3, "values": 3 * len(ELEMENTS), "created": 3, "resubmitted": 0}
        submitted = await act.submissions()
        assert {s["status"] for s in submitted} == {"submitted"}
        assert {s["key_id"] for s in submitted} == {act.key_id}

        # Approval by level: the county, the city, then the region (whose approval makes the values count).
        for level, headers in (("county", act.office), ("city", act.city), ("region", act.region)):
            reviewed = await act.approved(headers)
            assert (reviewed["level"], reviewed["submissions"]) == (level, 3)
        assert {s["status"] for s in await act.submissions()} == {"approved"}

        # The verdict shows the school below standard; its criterion opens a finding at the government.
        evaluated = await act.evaluated()
        (summary,) = evaluated["verdicts"]
        assert (summary["division_code"], summary["year"], summary["status"]) == (COUNTY, year, "not_met")
        assert summary["failed"] == ["schools.primary"]
        verdict = await act.verdict(summary["id"])
        short = {s["name"]: s["stages"][0] for s in verdict["figures"]["schools"]}["阳朔县第三小学"]
        assert (short["status"], short["indicators_met"]) == ("not_met", 6)
        rectifications = await act.rectifications()
        assert len(rectifications) == evaluated["findings_raised"] == 1
        assert {r["finding"]["unit_name"] for r in rectifications} == {"阳朔县人民政府"}
        assert {r["status"] for r in rectifications} == {"open"}

        # The deadline passes: accountability urges each of them.
        before = await act.document_ids()
        days = max(r["deadline_days"] for r in rectifications) + 1
        await advance_clock(client, suite.urls, act.admin, days)
        urged = await act.documents("urging_order", len(rectifications), besides=before)
        assert len(urged) == len(rectifications)
        assert {(d["unit_name"], d["office_division"]) for d in urged} == {("阳朔县人民政府", "450300")}


async def test_a_commissions_key_reaches_nothing_of_another_county_nor_another_system(
    suite: Suite, token: TokenFactory
) -> None:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        act = BalanceMonitoring(suite.urls, client, token, COUNTY, "阳朔县")
        await act.system()
        await act.agency_registered("桂林市教育评估监测中心")
        await act.commissioned("阳朔县义务教育优质均衡发展数据采集")
        await act.free_year()
        monitoring = suite.urls["monitoring"]

        # Another county's task and its submissions: not found, and nothing written.
        neighbour = BalanceMonitoring(suite.urls, client, token, OTHER_COUNTY, "灵川县")
        neighbour.system_id, neighbour.year = act.system_id, act.year
        elsewhere = await neighbour.task_issued(
            "灵川县义务教育优质均衡发展数据采集", headers=neighbour.office
        )
        their_schools = schools_of(OTHER_COUNTY)[:1]
        await neighbour.schools_registered(their_schools)
        for path in (
            f"/v1/collection-tasks/{elsewhere['id']}",
            f"/v1/collection-tasks/{elsewhere['id']}/submissions",
        ):
            hidden = await client.get(monitoring + path, headers=act.key)
            assert hidden.status_code == 404, (path, hidden.text)
        into = await act.submitted_in_bulk(their_schools, task_id=elsewhere["id"])
        assert into.status_code == 404, into.text
        # Even on its own county's task, another county's school is refused, naming the cell.
        await act.task_issued("阳朔县义务教育优质均衡发展数据采集")
        mixed = await act.submitted_in_bulk(their_schools)
        assert mixed.status_code == 422, mixed.text
        assert {(e["row"], e["column"]) for e in mixed.json()["errors"]} == {(2, "unit")}
        listed = await client.get(
            monitoring + f"/v1/collection-tasks/{elsewhere['id']}/submissions", headers=neighbour.office
        )
        assert listed.json()["items"] == []

        # Another indicator system: the seeded kindergarten guide, and a county's own system with a task.
        kindergarten = await act.system("kindergarten-quality-2022")
        hidden = await client.get(monitoring + f"/v1/indicator-systems/{kindergarten['id']}", headers=act.key)
        assert hidden.status_code == 404, hidden.text
        recorded = await client.post(
            monitoring + "/v1/indicator-systems", headers=act.office, json=_own_system("yangshuo-teachers")
        )
        assert recorded.status_code == 201, recorded.text
        own = BalanceMonitoring(suite.urls, client, token, COUNTY, "阳朔县")
        own.system_id, own.year = recorded.json()["id"], act.year
        task = await own.task_issued("阳朔县教师配备数据采集", headers=act.office)
        await act.schools_registered(schools_of(COUNTY))
        refused = await act.submitted_in_bulk(schools_of(COUNTY), task_id=task["id"])
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"].endswith("outside-commission")
        read = await client.get(
            monitoring + f"/v1/indicator-systems/{recorded.json()['id']}", headers=act.key
        )
        assert read.status_code == 404, read.text

        # And outside monitoring the key is nothing at all.
        governance = await client.get(suite.urls["governance"] + "/v1/committees", headers=act.key)
        assert governance.status_code == 403, governance.text
        office = bearer(token("supervision_office", division=OTHER_COUNTY))
        commission = await client.get(monitoring + f"/v1/commissions/{act.commission_id}", headers=office)
        assert commission.status_code == 404
