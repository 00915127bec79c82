"""A supervision of a county government, run by its county office through the whole procedure (RULES.md
§3): notice, team, self-evaluation, on site, preliminary opinion, feedback by meeting, reply, the numbered
opinion whose requirements become findings, and the report, approved, then read by the public."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from dudao.supervision.models import Supervision, SupervisionUnit
from governance.db import kit
from governance.supervisions import supervisions
from tests.conftest import TokenFactory, bearer
from tests.governance.unit.support import government_of, register_department
from tests.kit.supervision.support import (
    MEETING,
    appointed_inspectors,
    assert_problem,
    day,
    deliver_inspector_facts,
    supervision_body,
    team,
)

COUNTY, OTHER_COUNTY = "450105", "450108"  # 江南区, 良庆区
PUBLIC_KEYS = {
    "id",
    "kind",
    "title",
    "report_title",
    "report_text",
    "office_division",
    "division_code",
    "unit_names",
    "opinion_number",
    "published_at",
}


@contextmanager
def time_moved(days: int) -> Iterator[None]:
    clock.advance(timedelta(days=days))
    try:
        yield
    finally:
        clock.advance(timedelta(days=-days))


async def ready_team(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, **overrides: Any
) -> list[dict[str, Any]]:
    """Three inspectors appointed in school-inspection, known to governance through their events."""
    office = bearer(token("supervision_office", division=COUNTY))
    inspectors = await appointed_inspectors(inspection, office, COUNTY, **overrides)
    await deliver_inspector_facts(engine, kit, supervisions, [i["id"] for i in inspectors])
    return inspectors


async def outbox_types(engine: AsyncEngine, supervision_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(kit.outbox.c.type)
            .where(kit.outbox.c.envelope["data"]["supervision_id"].astext == supervision_id)
            .order_by(kit.outbox.c.seq)
        )
    return list(rows.scalars())


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        s = await conn.scalar(select(func.count()).select_from(Supervision))
        u = await conn.scalar(select(func.count()).select_from(SupervisionUnit))
    return int(s or 0), int(u or 0)


async def test_a_supervision_runs_from_notice_to_a_published_report(
    governance: httpx.AsyncClient,
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    governance_engine: AsyncEngine,
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    department = await register_department(governance, office, COUNTY)
    inspectors = await ready_team(inspection, token, governance_engine)
    unit_ids = [government["id"], department["id"]]

    opened = await governance.post("/v1/supervisions", json=supervision_body(unit_ids), headers=office)
    assert opened.status_code == 201, opened.text
    supervision = opened.json()
    sid = supervision["id"]
    assert opened.headers["Location"] == f"/v1/supervisions/{sid}"
    assert supervision["status"] == "planned"
    assert supervision["division_code"] == COUNTY
    assert {u["unit_name"] for u in supervision["units"]} == {government["name"], department["name"]}

    base = f"/v1/supervisions/{sid}"
    early = await governance.post(f"{base}/on-site", headers=office)
    assert_problem(early, 409, "supervision-wrong-step")

    notified = await governance.post(f"{base}/notice", json={"text": "定于三日后开展督导。"}, headers=office)
    assert notified.status_code == 200, notified.text
    assert notified.json()["status"] == "notified"
    set_team = await governance.put(f"{base}/team", json=team(inspectors), headers=office)
    assert set_team.status_code == 200, set_team.text
    assert len(set_team.json()["team"]) == 3

    for unit_id in unit_ids:
        unit = bearer(token("supervised_unit", division=COUNTY, org=unit_id))
        evaluated = await governance.post(
            f"{base}/units/{unit_id}/self-evaluation", json={"text": "自评报告：基本达标。"}, headers=unit
        )
        assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["status"] == "self_evaluation"
    not_theirs = bearer(token("supervised_unit", division=COUNTY, org=unit_ids[0]))
    refused = await governance.post(
        f"{base}/units/{unit_ids[1]}/reply", json={"text": "申辩"}, headers=not_theirs
    )
    assert_problem(refused, 403, "not-the-supervised-unit")

    with time_moved(3):
        on_site = await governance.post(f"{base}/on-site", headers=office)
        assert on_site.status_code == 200, on_site.text
        heard = await governance.post(
            f"{base}/hearings",
            json={
                "unit_id": unit_ids[0],
                "heard_group": "parents",
                "heard_count": 12,
                "heard_on": str(clock.today()),
                "summary": "家长反映学位紧张。",
            },
            headers=office,
        )
        assert heard.status_code == 201, heard.text
        assert heard.json()["hearings"][0]["heard_count"] == 12
        preliminary = await governance.post(
            f"{base}/preliminary-opinion",
            json={
                "text": "初步意见",
                "items": [{"unit_id": unit_ids[0], "checklist_code": "1.2", "text": "经费未足额拨付"}],
            },
            headers=office,
        )
        assert preliminary.status_code == 200, preliminary.text
        no_invitees = await governance.post(
            f"{base}/feedback", json={**MEETING, "attendance": MEETING["attendance"][:1]}, headers=office
        )
        assert_problem(no_invitees, 422, "invalid-supervision", "attendance")
        feedback = await governance.post(f"{base}/feedback", json=MEETING, headers=office)
        assert feedback.status_code == 200, feedback.text
        assert feedback.json()["reply_due"] == str(clock.today() + timedelta(days=15))
        too_soon = await governance.post(f"{base}/opinion", json={"text": "意见"}, headers=office)
        assert_problem(too_soon, 409, "reply-window-open")
        for unit_id in unit_ids:
            unit = bearer(token("supervised_unit", division=COUNTY, org=unit_id))
            replied = await governance.post(
                f"{base}/units/{unit_id}/reply", json={"text": "对第1项申辩如下。"}, headers=unit
            )
            assert replied.status_code == 200, replied.text
        opinion = await governance.post(
            f"{base}/opinion",
            json={
                "text": "督导意见书正文",
                "requirements": [
                    {
                        "unit_id": unit_ids[0],
                        "category": "funding",
                        "severity": "major",
                        "description": "教育经费未足额拨付",
                        "requirement": "三个月内补足拨付",
                        "deadline": {"days": 90},
                    }
                ],
            },
            headers=office,
        )
    assert opinion.status_code == 200, opinion.text
    issued = opinion.json()
    assert issued["status"] == "opinion_issued"
    assert "意〔" in issued["opinion_number"]
    findings = await governance.get("/v1/rectifications", params={"unit_id": unit_ids[0]}, headers=office)
    details = [
        (await governance.get(f"/v1/rectifications/{r['id']}", headers=office)).json()
        for r in findings.json()["items"]
    ]
    (finding,) = [d["finding"] for d in details if d["finding"]["origin_ref"] == sid]
    assert finding["origin_kind"] == "supervision"
    assert finding["description"] == "教育经费未足额拨付"

    no_etag = await governance.put(
        f"{base}/report", json={"title": "督导报告", "text": "正文"}, headers=office
    )
    assert no_etag.status_code == 428, no_etag.text
    etag = opinion.headers["ETag"]
    drafted = await governance.put(
        f"{base}/report",
        json={"title": "江南区2026年度综合督导报告", "text": "总体情况良好。"},
        headers={**office, "If-Match": etag},
    )
    assert drafted.status_code == 200, drafted.text
    stale = await governance.put(
        f"{base}/report", json={"title": "x", "text": "y"}, headers={**office, "If-Match": etag}
    )
    assert stale.status_code == 412, stale.text
    hidden = await governance.get(f"/v1/public/supervision-reports/{sid}")
    assert hidden.status_code == 404, hidden.text
    approved = await governance.post(f"{base}/report/approve", headers=office)
    assert approved.json()["status"] == "reported", approved.text
    published = await governance.post(f"{base}/report/publish", headers=office)
    assert published.json()["status"] == "published", published.text

    public = await governance.get(f"/v1/public/supervision-reports/{sid}")  # no token
    assert public.status_code == 200, public.text
    assert set(public.json()) == PUBLIC_KEYS
    assert public.json()["report_title"] == "江南区2026年度综合督导报告"
    listed = await governance.get("/v1/public/supervision-reports", params={"within": COUNTY})
    assert sid in [r["id"] for r in listed.json()["items"]]

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await governance.get(base, headers=elsewhere)).status_code == 404
    theirs = await governance.get("/v1/supervisions", headers=elsewhere)
    assert sid not in [s["id"] for s in theirs.json()["items"]]
    ours = await governance.get("/v1/supervisions", params={"unit_id": unit_ids[0]}, headers=office)
    assert sid in [s["id"] for s in ours.json()["items"]]

    assert await outbox_types(governance_engine, sid) == [
        "dudao.governance.supervision.opened.v1",
        "dudao.governance.supervision.notified.v1",
        "dudao.governance.supervision.feedback_given.v1",
        "dudao.governance.supervision.opinion_issued.v1",
        "dudao.governance.supervision.report_published.v1",
    ]


async def test_the_team_needs_three_serving_trained_inspectors(
    governance: httpx.AsyncClient,
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    governance_engine: AsyncEngine,
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    trained = await ready_team(inspection, token, governance_engine)
    untrained = await ready_team(inspection, token, governance_engine, trained=False)
    opened = await governance.post(
        "/v1/supervisions", json=supervision_body([government["id"]]), headers=office
    )
    base = f"/v1/supervisions/{opened.json()['id']}"

    assert_problem(
        await governance.put(f"{base}/team", json=team(trained[:2]), headers=office),
        409,
        "supervision-team-too-small",
    )
    assert_problem(
        await governance.put(f"{base}/team", json=team([*trained[:2], untrained[0]]), headers=office),
        409,
        "inspector-ineligible",
    )
    unknown = {"id": "01900000-0000-7000-8000-000000000000"}
    assert_problem(
        await governance.put(f"{base}/team", json=team([*trained[:2], unknown]), headers=office),
        409,
        "inspector-ineligible",
    )
    leaderless = {"members": [{"inspector_id": i["id"]} for i in trained]}
    assert_problem(
        await governance.put(f"{base}/team", json=leaderless, headers=office),
        422,
        "invalid-supervision",
        "members",
    )
    detail = await governance.get(base, headers=office)
    assert detail.json()["team"] == []


async def test_an_inspector_tied_to_the_government_recuses_from_its_supervision(
    governance: httpx.AsyncClient,
    inspection: httpx.AsyncClient,
    token: TokenFactory,
    governance_engine: AsyncEngine,
) -> None:
    """School-inspection knows ties to schools only; a tie to a government is declared on the supervision."""
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    inspectors = await ready_team(inspection, token, governance_engine)
    opened = await governance.post(
        "/v1/supervisions", json=supervision_body([government["id"]]), headers=office
    )
    base = f"/v1/supervisions/{opened.json()['id']}"
    recusal = {
        "inspector_id": inspectors[1]["id"],
        "unit_id": government["id"],
        "kind": "near_relative",
        "reason": "配偶系该区人民政府分管教育副区长",
    }

    elsewhere = await governance.post(
        f"{base}/recusals", json={**recusal, "unit_id": "not-a-unit-of-it"}, headers=office
    )
    assert_problem(elsewhere, 422, "invalid-supervision", "unit_id")
    recorded = await governance.post(f"{base}/recusals", json=recusal, headers=office)
    assert recorded.status_code == 201, recorded.text

    assert_problem(
        await governance.put(f"{base}/team", json=team(inspectors), headers=office), 409, "inspector-recused"
    )
    other = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await governance.post(f"{base}/recusals", json=recusal, headers=other)
    assert hidden.status_code == 404, hidden.text


async def test_bad_supervisions_name_the_field_and_write_nothing(
    governance: httpx.AsyncClient, token: TokenFactory, governance_engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=COUNTY))
    government = await government_of(governance, office, COUNTY)
    good = supervision_body([government["id"]])
    before = await counts(governance_engine)

    async def post(body: dict[str, Any], headers: dict[str, str] = office) -> httpx.Response:
        return await governance.post("/v1/supervisions", json=body, headers=headers)

    assert_problem(await post({**good, "kind": "thorough"}), 422, "validation-error", "kind")
    assert_problem(await post({**good, "checklist": []}), 422, "validation-error", "checklist")
    assert_problem(await post({**good, "ends_on": day(1)}), 422, "invalid-supervision", "ends_on")
    assert_problem(await post({**good, "starts_on": day(-1)}), 422, "invalid-supervision", "starts_on")
    assert_problem(
        await post({**good, "unit_ids": [government["id"], government["id"]]}),
        422,
        "invalid-supervision",
        "unit_ids.1",
    )
    unknown = await post({**good, "unit_ids": ["01900000-0000-7000-8000-000000000000"]})
    assert unknown.status_code == 404, unknown.text
    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    assert (await post(good, elsewhere)).status_code == 404
    inspector = bearer(token("inspector", division=COUNTY))
    assert (await post(good, inspector)).status_code == 403
    assert await counts(governance_engine) == before

    unannounced = await post({**good, "kind": "unannounced", "starts_on": good["starts_on"]})
    assert unannounced.status_code == 201, unannounced.text
    notice = await governance.post(
        f"/v1/supervisions/{unannounced.json()['id']}/notice", json={"text": "通知"}, headers=office
    )
    assert_problem(notice, 409, "supervision-wrong-step")
