"""``dudao demo``: the escalation loop played against a running suite, printed as a timeline.

A finding at a school is not rectified in time; the clock moves forward; accountability issues an
urging order, then an interview, then a circular; the school reports, the inspector accepts and the
case closes. The end-to-end tests drive the same ``Loop``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import httpx

from dudao.auth.tokens import issue_dev_token
from dudao.config import Settings

COUNTY = "450102"  # 兴宁区, Nanning
TokenFactory = Callable[..., str]


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {within} s")
        await asyncio.sleep(interval)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
        _ok(response, 201)
        body: dict[str, Any] = response.json()
        self.rectification_id = body["id"]
        return body

    async def advance(self, days: int) -> date:
        """Move every process's clock forward and wait until all of them see it."""
        moved = await self.client.post(
            self.url("governance", "/v1/clock/advance"), headers=self.admin, json={"days": days}
        )
        _ok(moved, 200)
        target = date.fromisoformat(moved.json()["business_date"])

        async def everyone_moved() -> bool:
            for service in self.urls:
                seen = await self.client.get(self.url(service, "/v1/clock"), headers=self.admin)
                if date.fromisoformat(seen.json()["business_date"]) < target:
                    return False
            return True

        await eventually(everyone_moved, within=10)
        return target

    async def rectification(self) -> dict[str, Any]:
        response = await self.client.get(
            self.url("school-inspection", f"/v1/rectifications/{self.rectification_id}"), headers=self.office
        )
        _ok(response, 200)
        body: dict[str, Any] = response.json()
        return body

    async def case(self, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        listed = await self.client.get(
            self.url("accountability", "/v1/cases"),
            headers=headers or self.office,
            params={"rectification_id": self.rectification_id},
        )
        _ok(listed, 200)
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
        _ok(
            await self.client.post(
                f"{url}/reports", headers=self.school, json={"text": "消防通道已清理，巡查台账见附件"}
            ),
            201,
        )
        _ok(await self.client.post(f"{url}/accept", headers=self.office), 200)

    async def case_closed(self) -> dict[str, Any]:
        async def closed() -> dict[str, Any] | None:
            case = await self.case()
            return case if case is not None and case["status"] == "closed" else None

        case: dict[str, Any] = await eventually(closed, within=30)
        return case


def _ok(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: "
            f"{response.text}"
        )


async def play(urls: Mapping[str, str], settings: Settings, say: Callable[[str], None]) -> None:
    started = time.monotonic()

    def token(*roles: str, division: str, org: str | None = None) -> str:
        return issue_dev_token(
            settings, sub=f"demo-{roles[0]}", name="演示用户", roles=list(roles), division=division, org=org
        )

    def at(text: str) -> None:
        say(f"[{time.monotonic() - started:5.1f}s] {text}")

    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
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
