"""A county government's duty evaluation from its self-evaluation to the published result: the review is
a supervision whose opinion opens the rectifications, and the events tell accountability what to act on."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import Clock
from governance.db import kit
from tests.conftest import TokenFactory, bearer
from tests.governance.evaluation.support import (
    OTHER_COUNTY,
    failing_marks,
    full_marks,
    open_evaluation,
    opinion_issued,
    reviewed,
    self_evaluated,
)
from tests.governance.unit.support import assert_problem

CONCLUDED = "dudao.governance.evaluation.concluded.v1"
PUBLISHED = "dudao.governance.evaluation_round.published.v1"


async def events_about(engine: AsyncEngine, event_type: str, key: str, value: str) -> list[dict[str, Any]]:
    outbox = kit.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.envelope["data"])
            .where(outbox.c.type == event_type, outbox.c.envelope["data"][key].astext == value)
            .order_by(outbox.c.seq)
        )
    return [dict(r) for r in rows.scalars()]


async def audited(engine: AsyncEngine, record_id: str) -> list[str]:
    log = kit.audit_log
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(log.c.action).where(log.c.record_id == record_id).order_by(log.c.seq)
        )
    return list(rows.scalars())


async def test_a_failed_county_runs_from_self_evaluation_to_published_result(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, clock: Clock
) -> None:
    e = await open_evaluation(gov, token)
    assert e.evaluation["status"] == "awaiting_self_evaluation"
    assert [i["item_code"] for i in e.evaluation["items"]] == [
        i["code"] for a in e.scheme["areas"] for i in a["items"]
    ]

    await self_evaluated(gov, e)
    assert e.evaluation["status"] == "self_evaluated"
    assert e.evaluation["self_score"] == 100

    supervision_id = await reviewed(gov, e)
    assert e.evaluation["status"] == "under_review"
    supervision = (await gov.get(f"/v1/supervisions/{supervision_id}", headers=e.office)).json()
    assert supervision["ref"] == f"duty-evaluation:{e.evaluation['id']}"
    assert [c["code"] for c in supervision["checklist"]] == [i["item_code"] for i in e.evaluation["items"]]

    scored = await gov.put(
        f"/v1/duty-evaluations/{e.evaluation['id']}/scores",
        json={"items": failing_marks(e.scheme)},
        headers={**e.office, "If-Match": e.etag},
    )
    assert scored.status_code == 200, scored.text
    assert scored.json()["grade"] == "fail"
    assert scored.json()["score"] < 60
    assert scored.json()["targets_missed"] == ["完成年度教育重点工作目标任务"]

    too_early = await gov.post(
        f"/v1/duty-evaluations/{e.evaluation['id']}/conclude",
        json={"feedback": "逐项反馈"},
        headers={**e.office, "If-Match": scored.headers["ETag"]},
    )
    assert_problem(too_early, 409, "review-not-finished")

    await opinion_issued(gov, engine, clock, e, supervision_id)
    concluded = await gov.post(
        f"/v1/duty-evaluations/{e.evaluation['id']}/conclude",
        json={"feedback": "逐项反馈：教育投入未落实"},
        headers={**e.office, "If-Match": scored.headers["ETag"]},
    )
    assert concluded.status_code == 200, concluded.text
    assert concluded.json()["status"] == "concluded"

    (event,) = await events_about(engine, CONCLUDED, "evaluation_id", e.evaluation["id"])
    assert event["grade"] == "fail"
    assert event["unit_id"] == e.unit_id
    assert event["unit_kind"] == "government"
    assert event["responsible_person"] == "张三（副区长）"
    assert event["targets_missed"] == ["完成年度教育重点工作目标任务"]
    assert event["open_rectifications"] == 1
    assert event["office_division"] == "450100"

    round_now = await gov.get(f"/v1/evaluation-rounds/{e.round['id']}", headers=e.office)
    published = await gov.post(
        f"/v1/evaluation-rounds/{e.round['id']}/publish",
        headers={**e.office, "If-Match": round_now.headers["ETag"]},
    )
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    (round_event,) = await events_about(engine, PUBLISHED, "round_id", e.round["id"])
    assert [(r["unit_id"], r["grade"], r["open_rectifications"]) for r in round_event["results"]] == [
        (e.unit_id, "fail", 1)
    ]

    public = await gov.get("/v1/public/duty-evaluation-results", params={"round_id": e.round["id"]})
    assert public.status_code == 200, public.text
    assert public.headers["Cache-Control"].startswith("public")
    (result,) = public.json()["items"]
    assert set(result) == {
        "id",
        "round_id",
        "year",
        "round_title",
        "office_division",
        "unit_id",
        "unit_name",
        "unit_kind",
        "division_code",
        "score",
        "grade",
    }
    assert result["grade"] == "fail"

    assert await audited(engine, e.evaluation["id"]) == [
        "duty_evaluation.self_evaluated",
        "duty_evaluation.review_opened",
        "duty_evaluation.scored",
        "duty_evaluation.concluded",
    ]

    elsewhere = bearer(token("supervision_office", division=OTHER_COUNTY))
    hidden = await gov.get(f"/v1/duty-evaluations/{e.evaluation['id']}", headers=elsewhere)
    assert_problem(hidden, 404, "duty-evaluation-not-found")
    assert (await gov.get(f"/v1/evaluation-rounds/{e.round['id']}", headers=elsewhere)).status_code == 404
    listed = await gov.get("/v1/duty-evaluations", params={"round_id": e.round["id"]}, headers=elsewhere)
    assert listed.json()["items"] == []
    rounds = await gov.get("/v1/evaluation-rounds", params={"year": e.round["year"]}, headers=elsewhere)
    assert rounds.json()["items"] == []


async def test_an_excellent_result_concludes_with_nothing_to_rectify(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, clock: Clock
) -> None:
    e = await open_evaluation(gov, token, county="450103")
    await self_evaluated(gov, e)
    supervision_id = await reviewed(gov, e)
    scored = await gov.put(
        f"/v1/duty-evaluations/{e.evaluation['id']}/scores",
        json={"items": full_marks(e.scheme)},
        headers={**e.office, "If-Match": e.etag},
    )
    assert scored.json()["grade"] == "excellent", scored.text
    assert scored.json()["score"] == 100
    assert scored.json()["targets_missed"] == []
    at = f"/v1/supervisions/{supervision_id}"
    await opinion_issued(gov, engine, clock, e, supervision_id)
    # The rectification the opinion opened is closed out: nothing is left open.
    (rectification,) = (
        await gov.get("/v1/rectifications", params={"unit_id": e.unit_id}, headers=e.office)
    ).json()["items"][-1:]
    report = await gov.post(
        f"/v1/rectifications/{rectification['id']}/reports", json={"text": "已整改"}, headers=e.unit
    )
    assert report.status_code == 201, report.text
    accepted = await gov.post(f"/v1/rectifications/{rectification['id']}/accept", headers=e.office)
    assert accepted.status_code == 200, accepted.text
    assert (await gov.get(at, headers=e.office)).json()["status"] == "opinion_issued"

    concluded = await gov.post(
        f"/v1/duty-evaluations/{e.evaluation['id']}/conclude",
        json={"feedback": "各项工作落实到位"},
        headers={**e.office, "If-Match": scored.headers["ETag"]},
    )
    assert concluded.status_code == 200, concluded.text
    (event,) = await events_about(engine, CONCLUDED, "evaluation_id", e.evaluation["id"])
    assert (event["grade"], event["open_rectifications"], event["targets_missed"]) == ("excellent", 0, [])
