"""The governance act of ``dudao demo``: a duty evaluation of a government (履行教育职责评价) played against a
running suite, from the unit's self-evaluation through the review (the supervision procedure) to the
published result, and what accountability does on it. The end-to-end tests drive the same ``DutyEvaluation``.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from dudao.dev.calls import Headers, TokenFactory, advance_clock, bearer, eventually, ok

SCHEME_KEY = "duty-evaluation"  # the default scheme governance seeds


def marks(scheme: Mapping[str, Any], *, passing: bool) -> list[dict[str, Any]]:
    """Points for every item of a scheme: all of them (``passing``), or half of each and none of the
    all-or-nothing ones (the annual target among them), which fails."""
    out: list[dict[str, Any]] = []
    for area in scheme["areas"]:
        for item in area["items"]:
            mark: dict[str, Any] = {"item_code": item["code"]}
            method = item["scoring"]["method"]
            if method == "deduction":
                mark["issues"] = 0 if passing else 100
            elif passing:
                mark["points"] = item["max_points"]
            else:
                mark["points"] = 0 if method == "all_or_nothing" else item["max_points"] / 2
            out.append(mark)
    return out


@dataclass
class DutyEvaluation:
    """An office's evaluation of one government one level below it, seen from every service."""

    urls: Mapping[str, str]
    client: httpx.AsyncClient
    token: TokenFactory
    office_division: str  # the evaluating office: the region, or a city
    unit_division: str  # the evaluated government's division
    abbreviation: str  # the office's 机关代字, e.g. 柳教督
    office: Headers = field(init=False)
    admin: Headers = field(init=False)
    unit_id: str = ""
    unit: Headers = field(default_factory=dict)
    round_id: str = ""
    evaluation_id: str = ""
    supervision_id: str = ""
    etag: str = ""

    def __post_init__(self) -> None:
        self.office = bearer(self.token("supervision_office", division=self.office_division))
        self.admin = bearer(self.token("platform_admin", division=self.office_division[:2] + "0000"))

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    async def _call(
        self, method: str, service: str, path: str, headers: Headers, status: int = 200, **kw: Any
    ) -> dict[str, Any]:
        response = await self.client.request(method, self.url(service, path), headers=headers, **kw)
        ok(response, status)
        body: dict[str, Any] = response.json() if response.content else {}
        if "ETag" in response.headers:
            self.etag = response.headers["ETag"]
        return body

    async def today(self) -> date:
        seen = await self._call("GET", "governance", "/v1/clock", self.admin)
        return date.fromisoformat(seen["business_date"])

    # ---- who takes part -------------------------------------------------------------------------------

    async def office_recorded(self, name: str) -> str:
        """The evaluating office's record in governance (once per division), and the abbreviation
        accountability learnt from it."""
        created = await self.client.post(
            self.url("governance", "/v1/supervision-offices"),
            headers=self.office,
            json={"division_code": self.office_division, "name": name, "abbreviation": self.abbreviation},
        )
        if created.status_code != 201:
            ok(created, 409)  # recorded by an earlier run: its abbreviation stands
        path = f"/v1/issuing-offices/{self.office_division}"

        async def learnt() -> str | None:
            office = await self._call("GET", "accountability", path, self.office)
            return None if office["default"] else str(office["abbreviation"])

        abbreviation: str = await eventually(learnt, within=30)
        self.abbreviation = abbreviation
        return abbreviation

    async def government_registered(self, name: str, person: str, post: str) -> dict[str, Any]:
        """The evaluated people's government (one per division), and a token of its own staff."""
        created = await self.client.post(
            self.url("governance", "/v1/supervised-units"),
            headers=self.office,
            json={
                "kind": "government",
                "name": name,
                "division_code": self.unit_division,
                "responsible_people": [{"name": person, "post": post}],
            },
        )
        if created.status_code == 201:
            government: dict[str, Any] = created.json()
        else:
            ok(created, 409)
            listed = await self._call(
                "GET",
                "governance",
                "/v1/supervised-units",
                self.office,
                params={"within": self.unit_division, "kind": "government"},
            )
            (government,) = [u for u in listed["items"] if u["division_code"] == self.unit_division]
        self.unit_id = str(government["id"])
        self.unit = bearer(self.token("supervised_unit", division=self.unit_division, org=self.unit_id))
        return government

    async def inspectors_appointed(self, count: int = 3) -> list[str]:
        """Inspectors appointed and trained in school-inspection, whom governance learns of by events."""
        today = await self.today()

        def day(offset: int) -> str:
            return (today + timedelta(days=offset)).isoformat()

        ids = []
        for n in range(count):
            inspector = await self._call(
                "POST",
                "school-inspection",
                "/v1/inspectors",
                self.office,
                201,
                json={
                    "division_code": self.office_division,
                    "name": f"督学{secrets.choice('王李张刘陈杨黄赵')}{n + 1}",
                    "employment": "part_time",
                    "degree": "bachelor",
                    "education_work_years": 15,
                    "contact_phone": "0772-2812345",
                    "recommendation": {"date": day(-60), "acted_by": "市教育局"},
                },
            )
            path = f"/v1/inspectors/{inspector['id']}"
            for step, offset in (("review", -50), ("public_notice", -40), ("announcement", -30)):
                await self._call(
                    "POST",
                    "school-inspection",
                    f"{path}/appointment-steps",
                    self.office,
                    201,
                    json={"step": step, "date": day(offset), "acted_by": "督导办"},
                )
            await self._call(
                "POST",
                "school-inspection",
                f"{path}/training",
                self.office,
                201,
                json={"kind": "pre_service", "title": "督学岗前培训", "held_on": day(-1), "class_hours": 24},
            )
            ids.append(str(inspector["id"]))
        return ids

    # ---- the evaluation -------------------------------------------------------------------------------

    async def scheme(self) -> dict[str, Any]:
        listed = await self._call(
            "GET", "governance", "/v1/evaluation-schemes", self.office, params={"key": SCHEME_KEY}
        )
        first = min(listed["items"], key=lambda s: s["edition"])
        return await self._call("GET", "governance", f"/v1/evaluation-schemes/{first['id']}", self.office)

    async def round_opened(self, title: str, scheme: Mapping[str, Any]) -> int:
        """This year's round of the office, or, where an earlier run holds it, the latest free year's."""
        today = await self.today()
        for year in range(today.year, today.year - 50, -1):
            opened = await self.client.post(
                self.url("governance", "/v1/evaluation-rounds"),
                headers=self.office,
                json={
                    "year": year,
                    "title": f"{year}年度{title}",
                    "scheme_id": scheme["id"],
                    "self_evaluation_due": (today + timedelta(days=30)).isoformat(),
                    "unit_ids": [self.unit_id],
                },
            )
            if opened.status_code == 201:
                self.round_id = opened.json()["id"]
                listed = await self._call(
                    "GET",
                    "governance",
                    "/v1/duty-evaluations",
                    self.office,
                    params={"round_id": self.round_id},
                )
                (evaluation,) = listed["items"]
                self.evaluation_id = evaluation["id"]
                return year
            ok(opened, 409)
        raise RuntimeError(f"office {self.office_division} has a round in every one of the last 50 years")

    async def self_evaluated(self, scheme: Mapping[str, Any]) -> dict[str, Any]:
        evidence = await self.client.post(
            self.url("governance", "/v1/evidence"),
            headers=self.unit,
            files={"file": ("自评报告.pdf", b"%PDF-1.7 self-evaluation", "application/pdf")},
        )
        ok(evidence, 201)
        items = [{**mark, "evidence_ids": [evidence.json()["id"]]} for mark in marks(scheme, passing=True)]
        path = f"/v1/duty-evaluations/{self.evaluation_id}"
        await self._call("GET", "governance", path, self.office)
        return await self._call(
            "PUT",
            "governance",
            f"{path}/self-evaluation",
            {**self.unit, "If-Match": self.etag},
            json={"items": items},
        )

    async def reviewed(self, inspectors: list[str], problem: str | None) -> dict[str, Any]:
        """The review, by the supervision procedure: notice, team, the unit's report, two days later on
        site, preliminary opinion, written feedback, the unit's reply, and the opinion, whose requirement
        (when a ``problem`` was found) opens a rectification due in five days."""
        today = await self.today()
        evaluation = f"/v1/duty-evaluations/{self.evaluation_id}"
        reviewed = await self._call(
            "POST",
            "governance",
            f"{evaluation}/review",
            {**self.office, "If-Match": self.etag},
            json={
                "plan": "查阅资料、实地核查、座谈走访",
                "starts_on": (today + timedelta(days=2)).isoformat(),
                "ends_on": (today + timedelta(days=4)).isoformat(),
            },
        )
        self.supervision_id = reviewed["supervision_id"]
        at = f"/v1/supervisions/{self.supervision_id}"
        await self._call(
            "POST", "governance", f"{at}/notice", self.office, json={"text": "定于近期开展督导评价"}
        )
        members = [
            {"inspector_id": i, "role": "leader" if n == 0 else "member"} for n, i in enumerate(inspectors)
        ]

        async def team_set() -> bool:  # once governance has heard of the inspectors' appointments
            response = await self.client.put(
                self.url("governance", f"{at}/team"), headers=self.office, json={"members": members}
            )
            return response.status_code == 200

        await eventually(team_set, within=30)
        await self._call(
            "POST",
            "governance",
            f"{at}/units/{self.unit_id}/self-evaluation",
            self.unit,
            json={"text": "自评报告"},
        )
        await advance_clock(self.client, self.urls, self.admin, 2)
        await self._call("POST", "governance", f"{at}/on-site", self.office)
        items = [{"unit_id": self.unit_id, "text": problem or "各项职责履行到位"}]
        await self._call(
            "POST",
            "governance",
            f"{at}/preliminary-opinion",
            self.office,
            json={"text": "初步意见", "items": items},
        )
        await self._call(
            "POST",
            "governance",
            f"{at}/feedback",
            self.office,
            json={"mode": "written", "text": "书面反馈，逐项列明"},
        )
        await self._call(
            "POST", "governance", f"{at}/units/{self.unit_id}/reply", self.unit, json={"text": "无异议"}
        )
        requirements = (
            []
            if problem is None
            else [
                {
                    "unit_id": self.unit_id,
                    "category": "funding",
                    "severity": "major",
                    "description": problem,
                    "requirement": "补足教育经费并建立保障机制",
                    "deadline": {"days": 5, "kind": "calendar"},
                }
            ]
        )
        return await self._call(
            "POST",
            "governance",
            f"{at}/opinion",
            self.office,
            json={"text": "督导意见书", "requirements": requirements},
        )

    async def report_published(self, title: str, text: str) -> dict[str, Any]:
        at = f"/v1/supervisions/{self.supervision_id}"
        await self._call("GET", "governance", at, self.office)
        await self._call(
            "PUT",
            "governance",
            f"{at}/report",
            {**self.office, "If-Match": self.etag},
            json={"title": title, "text": text},
        )
        await self._call("POST", "governance", f"{at}/report/approve", self.office)
        return await self._call("POST", "governance", f"{at}/report/publish", self.office)

    async def concluded(self, scheme: Mapping[str, Any], *, passing: bool) -> dict[str, Any]:
        path = f"/v1/duty-evaluations/{self.evaluation_id}"
        await self._call("GET", "governance", path, self.office)
        await self._call(
            "PUT",
            "governance",
            f"{path}/scores",
            {**self.office, "If-Match": self.etag},
            json={"items": marks(scheme, passing=passing)},
        )
        return await self._call(
            "POST",
            "governance",
            f"{path}/conclude",
            {**self.office, "If-Match": self.etag},
            json={"feedback": "逐项反馈评价结果"},
        )

    async def round_published(self) -> dict[str, Any]:
        path = f"/v1/evaluation-rounds/{self.round_id}"
        await self._call("GET", "governance", path, self.office)
        return await self._call(
            "POST", "governance", f"{path}/publish", {**self.office, "If-Match": self.etag}
        )

    # ---- what follows -----------------------------------------------------------------------------------

    async def rectifications(self, headers: Headers | None = None) -> list[dict[str, Any]]:
        """The rectifications the review's opinion opened at the unit, as ``headers`` see them."""
        who = headers or self.office
        listed = await self._call(
            "GET", "governance", "/v1/rectifications", who, params={"unit_id": self.unit_id}
        )
        details = [
            await self._call("GET", "governance", f"/v1/rectifications/{r['id']}", who)
            for r in listed["items"]
        ]
        return [d for d in details if d["finding"]["origin_ref"] == self.supervision_id]

    async def documents(
        self,
        *kinds: str,
        unit_id: str | None = None,
        besides: Collection[str] = (),
        within: float = 30,
    ) -> list[dict[str, Any]]:
        """Accountability's documents of ``kinds`` about the unit (or ``unit_id``), other than those
        ``besides`` (already there before), once there are any."""

        async def issued() -> list[dict[str, Any]]:
            listed = await self._call(
                "GET",
                "accountability",
                "/v1/documents",
                self.office,
                params={"unit_id": unit_id or self.unit_id, "limit": 200},
            )
            return [d for d in listed["items"] if d["kind"] in kinds and d["id"] not in besides]

        found: list[dict[str, Any]] = await eventually(issued, within=within)
        return found

    async def document_ids(self, unit_id: str | None = None) -> set[str]:
        """The documents about the unit so far (up to 200: a demo's unit has a handful)."""
        listed = await self._call(
            "GET",
            "accountability",
            "/v1/documents",
            self.office,
            params={"unit_id": unit_id or self.unit_id, "limit": 200},
        )
        return {d["id"] for d in listed["items"]}
