"""A duty evaluation driven over HTTP: the round, the unit's self-evaluation, the review's supervision up
to its opinion, the scores; and the inspectors the review's team needs, as school-inspection's events
would bring them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from dudao.contracts.inspection import InspectorAppointed, InspectorTrainingRecorded
from dudao.db import session_factory
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from governance.db import kit
from governance.supervisions import supervisions
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import Headers, government_of

CITY, COUNTY, OTHER_COUNTY = "450100", "450105", "450108"  # 南宁市, 江南区, 良庆区
# Every round of an office is for a year of its own: each test takes the office's next one.
_years: dict[str, Iterator[int]] = {}


def next_year(office_division: str = CITY) -> int:
    return next(_years.setdefault(office_division, itertools.count(2001)))


async def default_scheme(gov: httpx.AsyncClient, office: Headers) -> dict[str, Any]:
    listed = await gov.get("/v1/evaluation-schemes", params={"key": "duty-evaluation"}, headers=office)
    assert listed.status_code == 200, listed.text
    (first,) = [s for s in listed.json()["items"] if s["edition"] == 1]
    scheme = await gov.get(f"/v1/evaluation-schemes/{first['id']}", headers=office)
    assert scheme.status_code == 200, scheme.text
    return dict(scheme.json())


def items_of(scheme: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for area in scheme["areas"] for item in area["items"]]


def full_marks(scheme: dict[str, Any], evidence_id: str | None = None) -> list[dict[str, Any]]:
    """Every item at its maximum (no issue for a deduction item), with evidence where it is required."""
    out = []
    for item in items_of(scheme):
        score: dict[str, Any] = {"item_code": item["code"]}
        if item["scoring"]["method"] == "deduction":
            score["issues"] = 0
        else:
            score["points"] = item["max_points"]
        if evidence_id is not None and item["evidence_required"]:
            score["evidence_ids"] = [evidence_id]
        out.append(score)
    return out


def failing_marks(scheme: dict[str, Any]) -> list[dict[str, Any]]:
    """Half the points everywhere, and nothing for all-or-nothing items (the annual target among them)."""
    out = []
    for item in items_of(scheme):
        method = item["scoring"]["method"]
        if method == "deduction":
            out.append({"item_code": item["code"], "issues": 100})
        elif method == "all_or_nothing":
            out.append({"item_code": item["code"], "points": 0})
        else:
            out.append({"item_code": item["code"], "points": item["max_points"] / 2, "notes": "部分落实"})
    return out


@dataclass
class Evaluated:
    """One evaluation of a fresh round of the city's office."""

    office: Headers
    unit: Headers
    unit_id: str
    round: dict[str, Any]
    evaluation: dict[str, Any]
    etag: str
    scheme: dict[str, Any]


async def open_evaluation(
    gov: httpx.AsyncClient, token: TokenFactory, *, year: int | None = None, county: str = COUNTY
) -> Evaluated:
    office = bearer(token("supervision_office", division=CITY))
    government = await government_of(gov, office, county)
    scheme = await default_scheme(gov, office)
    today = Clock().today()  # the business date, in Asia/Shanghai
    body = {
        "year": year or next_year(),
        "title": "南宁市县级人民政府履行教育职责评价",
        "scheme_id": scheme["id"],
        "self_evaluation_due": (today + timedelta(days=30)).isoformat(),
        "unit_ids": [government["id"]],
    }
    opened = await gov.post("/v1/evaluation-rounds", json=body, headers=office)
    assert opened.status_code == 201, opened.text
    listed = await gov.get("/v1/duty-evaluations", params={"round_id": opened.json()["id"]}, headers=office)
    assert listed.status_code == 200, listed.text
    (evaluation,) = listed.json()["items"]
    detail = await gov.get(f"/v1/duty-evaluations/{evaluation['id']}", headers=office)
    unit = bearer(token("supervised_unit", division=county, org=government["id"]))
    return Evaluated(
        office, unit, government["id"], opened.json(), detail.json(), detail.headers["ETag"], scheme
    )


async def upload_evidence(gov: httpx.AsyncClient, who: Headers) -> str:
    files = {"file": ("自查报告.pdf", b"%PDF-1.7 self-evaluation", "application/pdf")}
    response = await gov.post("/v1/evidence", headers=who, files=files)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def self_evaluated(gov: httpx.AsyncClient, e: Evaluated) -> None:
    evidence_id = await upload_evidence(gov, e.unit)
    response = await gov.put(
        f"/v1/duty-evaluations/{e.evaluation['id']}/self-evaluation",
        json={"items": full_marks(e.scheme, evidence_id)},
        headers={**e.unit, "If-Match": e.etag},
    )
    assert response.status_code == 200, response.text
    e.evaluation, e.etag = response.json(), response.headers["ETag"]


async def appointed_inspectors(engine: AsyncEngine, division: str, count: int = 3) -> list[str]:
    """Inspectors appointed and trained, as the projection of school-inspection's events keeps them."""
    ids = [str(uuid7()) for _ in range(count)]
    async with session_factory(engine)() as session:
        uow = UnitOfWork(session, kit, "/dudao/tests", Clock())
        supervisions.service.appointed(
            uow,
            [
                InspectorAppointed(
                    division=division,
                    inspector_id=i,
                    name=f"督学{n}",
                    employment="full_time",
                    appointed_on=date(2020, 1, 1),
                    term_ends_on=None,
                )
                for n, i in enumerate(ids)
            ],
        )
        supervisions.service.trained(
            uow,
            [
                InspectorTrainingRecorded(
                    division=division,
                    inspector_id=i,
                    training_id=str(uuid7()),
                    kind="pre_service",
                    held_on=date(2020, 1, 1),
                    class_hours=40,
                )
                for i in ids
            ],
        )
        await uow.commit()
    return ids


async def reviewed(gov: httpx.AsyncClient, e: Evaluated) -> str:
    """The review opened: the supervision's id."""
    today = Clock().today()  # the business date, in Asia/Shanghai
    response = await gov.post(
        f"/v1/duty-evaluations/{e.evaluation['id']}/review",
        json={
            "plan": "查阅资料、实地核查、座谈走访",
            "starts_on": (today + timedelta(days=2)).isoformat(),
            "ends_on": (today + timedelta(days=4)).isoformat(),
        },
        headers={**e.office, "If-Match": e.etag},
    )
    assert response.status_code == 200, response.text
    e.evaluation, e.etag = response.json(), response.headers["ETag"]
    return str(e.evaluation["supervision_id"])


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def opinion_issued(
    gov: httpx.AsyncClient, engine: AsyncEngine, clock: Clock, e: Evaluated, supervision_id: str
) -> dict[str, Any]:
    """Drive the review's supervision to its opinion, with one rectification requirement: notice, team,
    the unit's self-evaluation report, on site two days later, preliminary opinion, written feedback, the
    unit's reply, opinion."""
    at = f"/v1/supervisions/{supervision_id}"
    office, unit = e.office, e.unit
    await _ok(
        await gov.post(f"{at}/notice", json={"text": "定于近期开展履行教育职责评价督导"}, headers=office)
    )
    inspectors = await appointed_inspectors(engine, CITY)
    members = [
        {"inspector_id": i, "role": "leader" if n == 0 else "member"} for n, i in enumerate(inspectors)
    ]
    await _ok(await gov.put(f"{at}/team", json={"members": members}, headers=office))
    await _ok(
        await gov.post(f"{at}/units/{e.unit_id}/self-evaluation", json={"text": "自评报告"}, headers=unit)
    )
    clock.advance(timedelta(days=2))
    await _ok(await gov.post(f"{at}/on-site", headers=office))
    await _ok(
        await gov.post(
            f"{at}/preliminary-opinion",
            json={
                "text": "初步意见",
                "items": [{"unit_id": e.unit_id, "checklist_code": "investment.1", "text": "教育投入未落实"}],
            },
            headers=office,
        )
    )
    await _ok(await gov.post(f"{at}/feedback", json={"mode": "written", "text": "书面反馈"}, headers=office))
    await _ok(await gov.post(f"{at}/units/{e.unit_id}/reply", json={"text": "无异议"}, headers=unit))
    return await _ok(
        await gov.post(
            f"{at}/opinion",
            json={
                "text": "督导意见书",
                "requirements": [
                    {
                        "unit_id": e.unit_id,
                        "category": "funding",
                        "severity": "major",
                        "description": "一般公共预算教育支出未做到只增不减",
                        "requirement": "补足教育经费并建立保障机制",
                        "deadline": {"days": 30, "kind": "calendar"},
                    }
                ],
            },
            headers=office,
        )
    )
