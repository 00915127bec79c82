"""The monitoring act of ``dudao demo``: a county's balanced development (优质均衡) monitored against a
running suite. The county office registers its schools and commissions an agency on the 2017 system with
a key bound to the county; the agency submits the year's school data in bulk (CSV); the county, the city
and the region approve it; the city evaluates the county, whose failing criteria open findings at the
county government in monitoring's rectification loop, which accountability urges once overdue. The
end-to-end tests drive the same ``BalanceMonitoring``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from dudao.dev.calls import Headers, TokenFactory, bearer, eventually, ok

SYSTEM_KEY = "balanced-2017"  # the system monitoring seeds
# The seven base elements of the 2017 resource indicators: per how many pupils each is counted, and the
# primary standard of the indicator computed from it (RULES.md §1).
RESOURCES = [
    ("teachers_above_qualification", 100, 4.2),
    ("key_teachers", 100, 1.0),
    ("pe_arts_teachers", 100, 0.9),
    ("teaching_floor_area", 1, 4.5),
    ("sports_ground_area", 1, 7.5),
    ("equipment_value", 1, 2000),
    ("multimedia_classrooms", 100, 2.3),
]
ELEMENTS = [code for code, _, _ in RESOURCES]
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class School:
    """A primary school of the county: its pupils, and how far above (or below) each standard its
    resources are (``short``: the one indicator held at ``short_scale``)."""

    code: str
    name: str
    pupils: int
    scale: float = 1.2
    short: str | None = None
    short_scale: float = 1.0

    def values(self) -> dict[str, int]:
        """Whole units, rounded up: a standard is met at least as it is asked."""
        return {
            code: math.ceil(
                standard * self.pupils * (self.short_scale if code == self.short else self.scale) / per
            )
            for code, per, standard in RESOURCES
        }


def schools_of(county: str) -> list[School]:
    """Three primary schools with fixed codes (registered once per database), the third with half the
    equipment it must have: below standard, so the county's criterion on its primary schools fails."""
    return [
        School(f"{county}0001", "第一小学", 400),
        School(f"{county}0002", "第二小学", 500),
        School(f"{county}0003", "第三小学", 600, short="equipment_value", short_scale=0.5),
    ]


def csv_of(schools: Sequence[School]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", *ELEMENTS])
    for school in schools:
        found = school.values()
        writer.writerow([school.code, *(found[code] for code in ELEMENTS)])
    return out.getvalue().encode()


def credit_code(county: str) -> str:
    """A fixed 统一社会信用代码 per county, so that a rerun finds its agency registered."""
    return county + "".join(_CREDIT_ALPHABET[int(d) + 10] for d in county) + county


@dataclass
class BalanceMonitoring:
    """A county's balanced development, monitored from the county's, the city's, the region's and the
    commissioned agency's side."""

    urls: Mapping[str, str]
    client: httpx.AsyncClient
    token: TokenFactory
    county: str
    county_name: str  # e.g. 阳朔县
    office: Headers = field(init=False)
    city: Headers = field(init=False)
    region: Headers = field(init=False)
    admin: Headers = field(init=False)
    system_id: str = ""
    agency_id: str = ""
    commission_id: str = ""
    key: Headers = field(default_factory=dict)
    key_id: str = ""
    task_id: str = ""
    year: int = 0

    def __post_init__(self) -> None:
        self.office = bearer(self.token("supervision_office", division=self.county))
        self.city = bearer(self.token("supervision_office", division=self.county[:4] + "00"))
        self.region = bearer(self.token("supervision_office", division=self.county[:2] + "0000"))
        self.admin = bearer(self.token("platform_admin", division=self.county[:2] + "0000"))

    @property
    def government_id(self) -> str:
        """The county government as monitoring's findings address it."""
        return f"gov-{self.county}"

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    async def _call(
        self, method: str, service: str, path: str, headers: Headers, status: int = 200, **kw: Any
    ) -> dict[str, Any]:
        response = await self.client.request(method, self.url(service, path), headers=headers, **kw)
        ok(response, status)
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def today(self) -> date:
        seen = await self._call("GET", "monitoring", "/v1/clock", self.admin)
        return date.fromisoformat(seen["business_date"])

    # ---- who takes part -------------------------------------------------------------------------------

    async def schools_registered(self, schools: Sequence[School]) -> list[dict[str, Any]]:
        """The schools in school-inspection (once per database), and monitoring's roster of them, once the
        events have told it their enrolment."""
        for school in schools:
            created = await self.client.post(
                self.url("school-inspection", "/v1/schools"),
                headers=self.office,
                json={
                    "school_code": school.code,
                    "name": f"{self.county_name}{school.name}",
                    "school_type": "primary",
                    "ownership": "public",
                    "division_code": self.county,
                    "address": f"{self.county_name}城关镇",
                    "enrolment": school.pupils,
                },
            )
            if created.status_code != 201:
                ok(created, 409)  # registered by an earlier run
        wanted = {s.code: s.pupils for s in schools}

        async def known() -> list[dict[str, Any]] | None:
            listed = await self._call(
                "GET", "monitoring", "/v1/school-roster", self.office, params={"limit": 200}
            )
            found = [r for r in listed["items"] if wanted.get(r["school_code"]) == r["pupils_primary"]]
            return found if len(found) == len(wanted) else None

        roster: list[dict[str, Any]] = await eventually(known, within=30)
        return roster

    async def system(self, key: str = SYSTEM_KEY, headers: Headers | None = None) -> dict[str, Any]:
        """The newest edition of the system ``key`` (what an evaluation uses by default)."""
        listed = await self._call(
            "GET", "monitoring", "/v1/indicator-systems", headers or self.office, params={"key": key}
        )
        newest: dict[str, Any] = max(listed["items"], key=lambda s: s["edition"])
        if key == SYSTEM_KEY:
            self.system_id = newest["id"]
        return newest

    async def agency_registered(self, name: str) -> dict[str, Any]:
        """The agency in the county office's registry (once per database, by its credit code)."""
        code = credit_code(self.county)
        today = await self.today()
        created = await self.client.post(
            self.url("monitoring", "/v1/agencies"),
            headers=self.office,
            json={
                "name": name,
                "credit_code": code,
                "qualification_kind": "教育评估监测机构资质",
                "certificate_number": f"桂教评{self.county}",
                "qualification_valid_until": (today + timedelta(days=3650)).isoformat(),
                "contacts": [{"name": "李明华", "phone": "13812345678"}],
            },
        )
        if created.status_code == 201:
            agency: dict[str, Any] = created.json()
        else:
            ok(created, 409)
            listed = await self._call(
                "GET", "monitoring", "/v1/agencies", self.office, params={"within": self.county}
            )
            (agency,) = [a for a in listed["items"] if a["credit_code"] == code]
        self.agency_id = str(agency["id"])
        return agency

    async def commissioned(self, title: str) -> dict[str, Any]:
        """A commission by government purchase for the county's data and report on the 2017 system, and
        the agency's key bound to it (shown once)."""
        today = await self.today()

        def day(offset: int) -> str:
            return (today + timedelta(days=offset)).isoformat()

        commission = await self._call(
            "POST",
            "monitoring",
            "/v1/commissions",
            self.office,
            201,
            json={
                "agency_id": self.agency_id,
                "title": title,
                "purchase_reference": f"GLCG-{self.county}-{today.isoformat()}",
                "system_ids": [self.system_id],
                "divisions": [self.county],
                "starts_on": day(-1),
                "ends_on": day(120),
                "deliverables": [
                    {"kind": "data", "title": "学校数据", "due_on": day(20)},
                    {"kind": "report", "title": "评估报告", "due_on": day(60)},
                ],
            },
        )
        self.commission_id = str(commission["id"])
        issued = await self._call(
            "POST", "monitoring", f"/v1/commissions/{self.commission_id}/keys", self.office, 201, json={}
        )
        self.key, self.key_id = {"X-API-Key": issued["key"]}, str(issued["key_id"])
        return commission

    # ---- the year's data ----------------------------------------------------------------------------

    async def free_year(self) -> int:
        """Last year, or, where an earlier run has a verdict for it, the latest year without one."""
        today = await self.today()
        for year in range(today.year - 1, today.year - 50, -1):
            listed = await self._call(
                "GET",
                "monitoring",
                "/v1/balance/verdicts",
                self.office,
                params={"within": self.county, "year": year},
            )
            if not listed["items"]:
                self.year = year
                return year
        raise RuntimeError(f"county {self.county} has a verdict in every one of the last 50 years")

    async def task_issued(self, name: str, headers: Headers | None = None, **changes: Any) -> dict[str, Any]:
        """A collection task for the schools' resource elements of the year, with its validation rules."""
        today = await self.today()
        task = await self._call(
            "POST",
            "monitoring",
            "/v1/collection-tasks",
            headers or self.office,
            201,
            json={
                "system_id": self.system_id,
                "name": f"{self.year}年度{name}",
                "year": self.year,
                "unit_kind": "school",
                "elements": ELEMENTS,
                "due_on": (today + timedelta(days=20)).isoformat(),
                "rules": [
                    {"kind": "required", "element": "teachers_above_qualification"},
                    {"kind": "range", "element": "teaching_floor_area", "minimum": 0, "maximum": 500000},
                    {
                        "kind": "compare",
                        "element": "key_teachers",
                        "operator": "<=",
                        "right_element": "teachers_above_qualification",
                    },
                ],
                **changes,
            },
        )
        if headers is None:
            self.task_id = str(task["id"])
        return task

    async def submitted_in_bulk(
        self, schools: Sequence[School], task_id: str | None = None
    ) -> httpx.Response:
        """The agency's CSV of the schools' values, with its key."""
        return await self.client.post(
            self.url("monitoring", f"/v1/collection-tasks/{task_id or self.task_id}/submissions/bulk"),
            headers={**self.key, "Content-Type": "text/csv"},
            content=csv_of(schools),
        )

    async def approved(self, level: Headers) -> dict[str, Any]:
        """Every submission of the county awaiting ``level``'s office, approved."""
        return await self._call(
            "POST",
            "monitoring",
            f"/v1/collection-tasks/{self.task_id}/reviews",
            level,
            json={"decision": "approved", "within": self.county, "comment": "审核通过"},
        )

    async def submissions(self) -> list[dict[str, Any]]:
        listed = await self._call(
            "GET",
            "monitoring",
            f"/v1/collection-tasks/{self.task_id}/submissions",
            self.office,
            params={"limit": 200},
        )
        items: list[dict[str, Any]] = listed["items"]
        return items

    # ---- the verdict and what follows ------------------------------------------------------------------

    async def evaluated(self) -> dict[str, Any]:
        """The city evaluates the county for the year: its verdict and how many findings it raised."""
        return await self._call(
            "POST",
            "monitoring",
            "/v1/balance/evaluations",
            self.city,
            json={"year": self.year, "division_code": self.county},
        )

    async def verdict(self, verdict_id: str) -> dict[str, Any]:
        return await self._call("GET", "monitoring", f"/v1/balance/verdicts/{verdict_id}", self.office)

    async def rectifications(self) -> list[dict[str, Any]]:
        """The rectifications the year's verdict opened at the county government."""
        listed = await self._call(
            "GET",
            "monitoring",
            "/v1/rectifications",
            self.office,
            params={"unit_id": self.government_id, "limit": 200},
        )
        details = [
            await self._call("GET", "monitoring", f"/v1/rectifications/{r['id']}", self.office)
            for r in listed["items"]
        ]
        prefix = f"balance:{self.year}:"
        return [d for d in details if d["finding"]["origin_ref"].startswith(prefix)]

    async def document_ids(self) -> set[str]:
        """Accountability's documents about the county government so far (up to 200)."""
        return {d["id"] for d in await self._documents()}

    async def documents(
        self, kind: str, count: int, *, besides: Collection[str] = (), within: float = 60
    ) -> list[dict[str, Any]]:
        """Accountability's documents of ``kind`` about the county government, other than those
        ``besides`` (already there before), once there are ``count`` of them."""

        async def issued() -> list[dict[str, Any]] | None:
            found = [d for d in await self._documents() if d["kind"] == kind and d["id"] not in besides]
            return found if len(found) >= count else None

        found: list[dict[str, Any]] = await eventually(issued, within=within)
        return found

    async def _documents(self) -> list[dict[str, Any]]:
        listed = await self._call(
            "GET",
            "accountability",
            "/v1/documents",
            self.office,
            params={"unit_id": self.government_id, "limit": 200},
        )
        items: list[dict[str, Any]] = listed["items"]
        return items
