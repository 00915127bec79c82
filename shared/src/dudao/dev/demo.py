"""``dudao demo``: the escalation loop played against a running suite, printed as a timeline.

A finding at a school is not rectified in time; the clock moves forward; accountability issues an
urging order, then an interview, then a circular; the school reports, the inspector accepts and the
case closes. Then the governance act: a county government fails its duty evaluation, the review's
opinion opens a rectification that passes its deadline, and the result is published. Then the monitoring
act: an agency with a key bound to a county's commission submits the year's school data in bulk, the
county, the city and the region approve it, the county's balanced-development verdict fails and its
finding is urged once overdue, and the key reaches nothing outside its commission. The end-to-end tests
drive the same ``Loop``, ``DutyEvaluation`` and ``BalanceMonitoring``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import httpx

from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings
from dudao.dev.calls import TokenFactory, advance_clock, bearer, eventually, ok
from dudao.dev.duty_evaluation import DutyEvaluation
from dudao.dev.monitoring_act import BalanceMonitoring, schools_of
from dudao.dev.suite import SERVICES

COUNTY = "450102"  # 兴宁区, Nanning


class SuiteUnreachable(RuntimeError):
    """A service of the suite does not answer; the message names it, where it was asked and why."""


_PORT_VARIABLES = {service.name: service.port_variable for service in SERVICES}


def suite_urls(host: str) -> dict[str, str]:
    """Where `dudao up` serves each service on ``host``: on the ports it reads, DUDAO_<SERVICE>_PORT."""
    return {service.name: f"http://{host}:{service.port()}" for service in SERVICES}


async def require_up(client: httpx.AsyncClient, urls: Mapping[str, str]) -> None:
    """Every service answers ``/healthz``, or SuiteUnreachable for the first that does not."""
    for name, url in urls.items():
        try:
            healthy = (await client.get(url + "/healthz")).status_code == 200
            reason = "it is not healthy"
        except httpx.TransportError as exc:
            healthy, reason = False, str(exc) or type(exc).__name__
        if not healthy:
            raise SuiteUnreachable(
                f"{name} does not answer at {url} ({reason}): is `dudao up` running there, with the"
                f" same {_PORT_VARIABLES.get(name, 'DUDAO_<SERVICE>_PORT')} if one was set?"
            )


class Loop:
    """One school's rectification, seen from school-inspection and from accountability."""

    def __init__(
        self, urls: Mapping[str, str], client: httpx.AsyncClient, token: TokenFactory, county: str = COUNTY
    ) -> None:
        self.urls, self.client, self.county = urls, client, county
        self.office = bearer(token("supervision_office", division=county))
        self.admin = bearer(token("platform_admin", division=county[:2] + "0000"))
        self.school_code = "".join(secrets.choice("0123456789") for _ in range(10))
        self.school = bearer(token("supervised_unit", division=county, org=self.school_code))
        self.rectification_id = ""

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    async def raise_finding(self, days: int = 5) -> dict[str, Any]:
        response = await self.client.post(
            self.url("school-inspection", "/v1/findings"),
            headers=self.office,
            json={
                "unit": {
                    "id": self.school_code,
                    "kind": "school",
                    "name": "兴宁区第三小学",
                    "division_code": self.county,
                    "competent_department": "兴宁区教育局",
                },
                "origin_kind": "visit",
                "category": "safety",
                "severity": "serious",
                "description": "学生宿舍消防通道堵塞",
                "requirement": "清理消防通道并建立每日巡查制度",
                "deadline": {"days": days, "kind": "calendar"},
            },
        )
        ok(response, 201)
        body: dict[str, Any] = response.json()
        self.rectification_id = body["id"]
        return body

    async def advance(self, days: int) -> date:
        return await advance_clock(self.client, self.urls, self.admin, days)

    async def rectification(self) -> dict[str, Any]:
        response = await self.client.get(
            self.url("school-inspection", f"/v1/rectifications/{self.rectification_id}"), headers=self.office
        )
        ok(response, 200)
        body: dict[str, Any] = response.json()
        return body

    async def case(self, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        listed = await self.client.get(
            self.url("accountability", "/v1/cases"),
            headers=headers or self.office,
            params={"rectification_id": self.rectification_id},
        )
        ok(listed, 200)
        if not listed.json()["items"]:
            return None
        case_id = listed.json()["items"][0]["id"]
        detail = await self.client.get(
            self.url("accountability", f"/v1/cases/{case_id}"), headers=headers or self.office
        )
        body: dict[str, Any] = detail.json()
        return body

    async def steps_reach(self, count: int, within: float = 60) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            case = await self.case()
            return case if case is not None and len(case["steps"]) >= count else None

        case: dict[str, Any] = await eventually(reached, within=within)
        return case

    async def deadline_moves_to(self, new_deadline: str, step_kind: str) -> dict[str, Any]:
        async def shown() -> dict[str, Any] | None:
            rectification = await self.rectification()
            moved = rectification["deadline"] == new_deadline and rectification["last_step_kind"] == step_kind
            return rectification if moved else None

        rectification: dict[str, Any] = await eventually(shown, within=30)
        return rectification

    async def report_and_accept(self) -> None:
        url = self.url("school-inspection", f"/v1/rectifications/{self.rectification_id}")
        ok(
            await self.client.post(
                f"{url}/reports", headers=self.school, json={"text": "消防通道已清理，巡查台账见附件"}
            ),
            201,
        )
        ok(await self.client.post(f"{url}/accept", headers=self.office), 200)

    async def case_closed(self) -> dict[str, Any]:
        async def closed() -> dict[str, Any] | None:
            case = await self.case()
            return case if case is not None and case["status"] == "closed" else None

        case: dict[str, Any] = await eventually(closed, within=30)
        return case


async def play(urls: Mapping[str, str], settings: Settings, say: Callable[[str], None]) -> None:
    started = time.monotonic()

    def token(*roles: str, division: str, org: str | None = None) -> str:
        return issue_dev_token(
            settings, sub=f"demo-{roles[0]}", name="演示用户", roles=list(roles), division=division, org=org
        )

    def at(text: str) -> None:
        say(f"[{time.monotonic() - started:5.1f}s] {text}")

    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        await require_up(client, urls)
        loop = Loop(urls, client, token)
        opened = await loop.raise_finding()
        at(
            f"school-inspection: finding at school {loop.school_code} (兴宁区第三小学), "
            f"rectify by {opened['deadline']}"
        )
        for index, (days, kind) in enumerate(
            [
                (opened["deadline_days"] + 1, "urging order (督办单)"),
                (16, "interview (约谈)"),
                (11, "circular (通报)"),
            ]
        ):
            today = await loop.advance(days)
            at(f"clock moved {days} days: today is {today.isoformat()}; the deadline has passed")
            case = await loop.steps_reach(index + 1)
            step = case["steps"][index]
            at(f"accountability: {kind} {step['document_number']}, new deadline {step['new_deadline']}")
            shown = await loop.deadline_moves_to(step["new_deadline"], step["kind"])
            at(
                f"school-inspection: deadline moved to {shown['deadline']}, "
                f"escalation level {shown['escalation_level']}"
            )
        await loop.report_and_accept()
        at("school-inspection: the school reported, the inspector accepted it (销号)")
        case = await loop.case_closed()
        at(
            f"accountability: case closed after {len(case['steps'])} steps; documents "
            f"{', '.join(d['number'] for d in case['documents'])}"
        )
        await play_duty_evaluation(urls, client, token, at)
        await play_monitoring(urls, client, token, at)


async def play_duty_evaluation(
    urls: Mapping[str, str], client: httpx.AsyncClient, token: TokenFactory, at: Callable[[str], None]
) -> None:
    """The governance act: Liuzhou's office evaluates 柳北区's government, which fails; the review's opinion
    opens a rectification that is not done in time."""
    act = DutyEvaluation(urls, client, token, "450200", "450205", abbreviation="柳教督")
    abbreviation = await act.office_recorded("柳州市人民政府教育督导委员会办公室")
    await act.government_registered("柳州市柳北区人民政府", "王五", "副区长")
    at(f"governance: Liuzhou's supervision office ({abbreviation}) and 柳北区人民政府 on record")
    before = await act.document_ids()
    inspectors = await act.inspectors_appointed()
    scheme = await act.scheme()
    year = await act.round_opened("柳州市县级人民政府履行教育职责评价", scheme)
    await act.self_evaluated(scheme)
    at(f"governance: {year} duty evaluation opened; 柳北区 filed its self-evaluation")
    opinion = await act.reviewed(inspectors, problem="一般公共预算教育支出未做到只增不减")
    (rectification,) = await act.rectifications()
    at(
        f"governance: review by a team of {len(inspectors)} inspectors; supervision opinion "
        f"{opinion['opinion_number']}, rectify by {rectification['deadline']}"
    )
    concluded = await act.concluded(scheme, passing=False)
    at(f"governance: scored {concluded['score']:.1f}, grade {concluded['grade']}")
    (step,) = await act.documents("interview", "circular", "accountability_decision", besides=before)
    at(f"accountability: the fail is a trigger: {step['title']} {step['number']}")
    today = await advance_clock(client, urls, act.admin, rectification["deadline_days"] + 1)
    at(f"clock moved: today is {today.isoformat()}; the rectification's deadline has passed")
    (urging,) = await act.documents("urging_order", besides=before, within=60)
    at(f"accountability: urging order {urging['number']}")
    await act.report_published("柳北区人民政府履行教育职责督导报告", "柳北区履行教育职责总体情况……")
    await act.round_published()
    public = await client.get(
        act.url("governance", "/v1/public/duty-evaluation-results"), params={"round_id": act.round_id}
    )
    ok(public, 200)
    (result,) = public.json()["items"]
    at(
        f"public (no token): {result['unit_name']} {result['grade']}; report at "
        f"/v1/public/supervision-reports/{act.supervision_id}"
    )


async def play_monitoring(
    urls: Mapping[str, str], client: httpx.AsyncClient, token: TokenFactory, at: Callable[[str], None]
) -> None:
    """The monitoring act: 阳朔县's balanced development, from an agency's bulk data to an urging order."""
    act = BalanceMonitoring(urls, client, token, "450321", "阳朔县")
    schools = schools_of(act.county)
    await act.schools_registered(schools)
    at(f"school-inspection: {len(schools)} schools of 阳朔县 registered; monitoring's roster has them")
    system = await act.system()
    agency = await act.agency_registered("桂林市教育评估监测中心")
    await act.commissioned("阳朔县义务教育优质均衡发展监测")
    at(
        f"monitoring: {agency['name']} commissioned on {system['name']} (edition {system['edition']}); "
        f"key {act.key_id[:8]}… bound to 阳朔县"
    )
    year = await act.free_year()
    await act.task_issued("阳朔县义务教育优质均衡发展数据采集")
    bulk = await act.submitted_in_bulk(schools)
    ok(bulk, 200)
    at(f"monitoring: the agency submitted {year}'s data in one CSV: {bulk.json()['values']} values")
    for level, headers in (("county", act.office), ("city", act.city), ("region", act.region)):
        reviewed = await act.approved(headers)
        at(f"monitoring: the {level} office approved {reviewed['submissions']} submissions")
    evaluated = await act.evaluated()
    (summary,) = evaluated["verdicts"]
    at(
        f"monitoring: 阳朔县's {year} verdict {summary['status']}, failing {', '.join(summary['failed'])}; "
        f"{evaluated['findings_raised']} finding(s) at 阳朔县人民政府"
    )
    rectifications = await act.rectifications()
    before = await act.document_ids()
    days = max(r["deadline_days"] for r in rectifications) + 1
    today = await advance_clock(client, urls, act.admin, days)
    at(f"clock moved {days} days: today is {today.isoformat()}; the rectification deadline has passed")
    urged = await act.documents("urging_order", len(rectifications), besides=before)
    at(f"accountability: urging order(s) {', '.join(str(d['number']) for d in urged)}")
    elsewhere = BalanceMonitoring(urls, client, token, "450323", "灵川县")
    elsewhere.system_id, elsewhere.year = act.system_id, year
    task = await elsewhere.task_issued("灵川县义务教育优质均衡发展数据采集", headers=elsewhere.office)
    hidden = await client.get(act.url("monitoring", f"/v1/collection-tasks/{task['id']}"), headers=act.key)
    kindergarten = await act.system("kindergarten-quality-2022")
    other = await client.get(
        act.url("monitoring", f"/v1/indicator-systems/{kindergarten['id']}"), headers=act.key
    )
    at(
        f"monitoring: the key reads 灵川县's task: {hidden.status_code}; "
        f"the kindergarten system: {other.status_code}"
    )
