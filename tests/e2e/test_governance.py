"""Duty evaluation of governments across services, as portals and apps drive it: a county fails, the
review's opinion opens a rectification that passes its deadline and is urged; a city excels and is
commended; the organisation departments hear of both rounds; the public reads the results and the report
without a token; another county's office sees none of it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dudao.dev.calls import advance_clock
from dudao.dev.duty_evaluation import DutyEvaluation
from tests.conftest import TokenFactory, bearer
from tests.e2e.conftest import Suite, eventually

pytestmark = pytest.mark.e2e
CITY, COUNTY, OTHER_COUNTY = "450200", "450205", "450204"  # 柳州市, 柳北区, 柳南区: no other test's units


async def _public(client: httpx.AsyncClient, url: str, **params: Any) -> dict[str, Any]:
    response = await client.get(url, params=params)  # no token
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_failed_county_is_urged_and_everyone_reads_what_they_may(
    suite: Suite, token: TokenFactory
) -> None:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        act = DutyEvaluation(suite.urls, client, token, CITY, COUNTY, abbreviation="柳教督")
        assert await act.office_recorded("柳州市人民政府教育督导委员会办公室") == "柳教督"
        await act.government_registered("柳州市柳北区人民政府", "王五", "副区长")
        inspectors = await act.inspectors_appointed()
        scheme = await act.scheme()
        await act.round_opened("柳州市县级人民政府履行教育职责评价", scheme)
        assert (await act.self_evaluated(scheme))["status"] == "self_evaluated"

        # The review is the supervision procedure; its opinion, numbered by the city's office, opens the
        # rectification.
        opinion = await act.reviewed(inspectors, problem="一般公共预算教育支出未做到只增不减")
        assert opinion["status"] == "opinion_issued"
        assert opinion["opinion_number"].startswith("柳教督意〔")
        (rectification,) = await act.rectifications()
        assert rectification["status"] == "open"
        assert rectification["finding"]["unit_name"] == "柳州市柳北区人民政府"

        concluded = await act.concluded(scheme, passing=False)
        assert concluded["grade"] == "fail"

        # Accountability: the fail is a trigger (RULES.md §5): the responsible person is interviewed.
        (interview,) = await act.documents("interview")
        assert interview["number"].startswith("柳教督谈〔")
        assert "王五" in interview["body"]

        # The rectification's deadline passes: an urging order on it.
        await advance_clock(client, suite.urls, act.admin, rectification["deadline_days"] + 1)
        (urging,) = await act.documents("urging_order", within=60)
        assert urging["number"].startswith("柳教督办〔")
        assert urging["case_id"] != interview["case_id"]

        # The report and the results are published; the organisation department hears of the round.
        await act.report_published("柳北区人民政府履行教育职责督导报告", "柳北区履行教育职责总体情况……")
        await act.round_published()
        (results,) = await act.documents("evaluation_results", unit_id=f"organisation-department:{CITY}")
        assert "柳州市柳北区人民政府" in results["body"]

        published = await _public(
            client, act.url("governance", "/v1/public/duty-evaluation-results"), round_id=act.round_id
        )
        results_read = [(r["unit_name"], r["grade"]) for r in published["items"]]
        assert results_read == [("柳州市柳北区人民政府", "fail")]
        report = await _public(
            client, act.url("governance", f"/v1/public/supervision-reports/{act.supervision_id}")
        )
        assert report["report_title"] == "柳北区人民政府履行教育职责督导报告"
        assert report["opinion_number"] == opinion["opinion_number"]

        # Another county's office sees none of it.
        elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
        for service, path in [
            ("governance", f"/v1/duty-evaluations/{act.evaluation_id}"),
            ("governance", f"/v1/supervisions/{act.supervision_id}"),
            ("governance", f"/v1/rectifications/{rectification['id']}"),
            ("accountability", f"/v1/documents/{interview['id']}"),
            ("accountability", f"/v1/documents/{urging['id']}"),
        ]:
            hidden = await client.get(act.url(service, path), headers=elsewhere)
            assert hidden.status_code == 404, (path, hidden.text)
        for service, path, params in [
            ("governance", "/v1/duty-evaluations", {"round_id": act.round_id}),
            ("governance", "/v1/rectifications", {"unit_id": act.unit_id}),
            ("accountability", "/v1/documents", {"unit_id": act.unit_id}),
        ]:
            listed = await client.get(act.url(service, path), headers=elsewhere, params=params)
            assert listed.status_code == 200, listed.text
            assert listed.json()["items"] == [], path


async def test_an_excellent_city_is_commended_and_its_organisation_department_told(
    suite: Suite, token: TokenFactory
) -> None:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        act = DutyEvaluation(suite.urls, client, token, "450000", CITY, abbreviation="桂教督")
        await act.office_recorded("广西壮族自治区人民政府教育督导委员会办公室")
        await act.government_registered("柳州市人民政府", "赵六", "副市长")
        inspectors = await act.inspectors_appointed()
        scheme = await act.scheme()
        await act.round_opened("设区市人民政府履行教育职责评价", scheme)
        await act.self_evaluated(scheme)
        opinion = await act.reviewed(inspectors, problem=None)
        assert await act.rectifications() == []
        assert (await act.concluded(scheme, passing=True))["grade"] == "excellent"

        (commendation,) = await act.documents("commendation")
        assert commendation["number"].startswith(f"{act.abbreviation}表〔")
        assert opinion["opinion_number"].startswith(f"{act.abbreviation}意〔")

        await act.round_published()
        department = "organisation-department:450000"
        (results,) = await act.documents("evaluation_results", unit_id=department)
        reader = bearer(token("member_unit", division="450000", org=department))

        async def told() -> list[dict[str, Any]]:
            listed = await client.get(
                act.url("accountability", "/v1/notifications"),
                headers=reader,
                params={"recipient_id": department, "limit": 200},
            )
            assert listed.status_code == 200, listed.text
            return [n for n in listed.json()["items"] if results["number"] in n["title"]]

        assert len(await eventually(told, within=30)) == 1
