"""The unit evaluates itself and only itself; the evaluating office scores; bad points name their item and
change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.evaluation.models import DutyEvaluation
from tests.conftest import TokenFactory, bearer
from tests.governance.evaluation.support import (
    Evaluated,
    full_marks,
    items_of,
    open_evaluation,
    reviewed,
    self_evaluated,
    upload_evidence,
)
from tests.governance.unit.support import assert_problem


async def version_of(engine: AsyncEngine, evaluation_id: str) -> int:
    async with engine.connect() as conn:
        stmt = select(DutyEvaluation.version).where(DutyEvaluation.id == evaluation_id)
        return int((await conn.execute(stmt)).scalar_one())


def _index(e: Evaluated, method: str, *, evidence: bool | None = None) -> int:
    for n, item in enumerate(items_of(e.scheme)):
        if item["scoring"]["method"] == method and (
            evidence is None or bool(item["evidence_required"]) == evidence
        ):
            return n
    raise AssertionError(f"no {method} item")


async def test_a_unit_sees_and_evaluates_only_its_own_evaluation(
    gov: httpx.AsyncClient, token: TokenFactory
) -> None:
    e = await open_evaluation(gov, token)
    at = f"/v1/duty-evaluations/{e.evaluation['id']}"
    mine = await gov.get(at, headers=e.unit)
    assert mine.status_code == 200, mine.text
    assert (await gov.get("/v1/duty-evaluations", headers=e.unit)).json()["items"][0]["unit_id"] == e.unit_id

    neighbour = bearer(token("supervised_unit", division=e.evaluation["division_code"], org="someone-else"))
    assert_problem(await gov.get(at, headers=neighbour), 404, "duty-evaluation-not-found")
    assert (await gov.get("/v1/duty-evaluations", headers=neighbour)).json()["items"] == []
    body = {"items": full_marks(e.scheme)}
    office_try = await gov.put(f"{at}/self-evaluation", json=body, headers={**e.office, "If-Match": e.etag})
    assert office_try.status_code == 403, office_try.text


@pytest.mark.parametrize("broken", ["missing", "above", "partial", "issues", "unknown", "twice", "evidence"])
async def test_bad_points_name_their_item_and_change_nothing(
    gov: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine, broken: str
) -> None:
    e = await open_evaluation(gov, token)
    evidence_id = await upload_evidence(gov, e.unit)
    items: list[dict[str, Any]] = full_marks(e.scheme, evidence_id)
    proportional, all_or_nothing = _index(e, "proportional"), _index(e, "all_or_nothing")
    deduction = _index(e, "deduction")
    field = {
        "missing": "items",
        "above": f"items.{proportional}.points",
        "partial": f"items.{all_or_nothing}.points",
        "issues": f"items.{deduction}.issues",
        "unknown": "items.0.item_code",
        "twice": f"items.{len(items)}.item_code",
        "evidence": f"items.{_index(e, 'proportional', evidence=True)}.evidence_ids",
    }[broken]
    if broken == "missing":
        items.pop()
    elif broken == "above":
        items[proportional]["points"] += 1
    elif broken == "partial":
        items[all_or_nothing]["points"] = 1
    elif broken == "issues":
        items[deduction] = {"item_code": items[deduction]["item_code"], "points": 1}
    elif broken == "unknown":
        items[0]["item_code"] = "nothing.1"
    elif broken == "twice":
        items.append(items[0])
    else:
        items[_index(e, "proportional", evidence=True)]["evidence_ids"] = []
    response = await gov.put(
        f"/v1/duty-evaluations/{e.evaluation['id']}/self-evaluation",
        json={"items": items},
        headers={**e.unit, "If-Match": e.etag},
    )
    assert_problem(response, 422, "invalid-evaluation-scores", field)
    assert await version_of(engine, e.evaluation["id"]) == e.evaluation["version"]


async def test_changes_need_the_current_etag(gov: httpx.AsyncClient, token: TokenFactory) -> None:
    e = await open_evaluation(gov, token)
    at = f"/v1/duty-evaluations/{e.evaluation['id']}/self-evaluation"
    body = {"items": full_marks(e.scheme, await upload_evidence(gov, e.unit))}
    assert_problem(await gov.put(at, json=body, headers=e.unit), 428, "precondition-required")
    first = await gov.put(at, json=body, headers={**e.unit, "If-Match": e.etag})
    assert first.status_code == 200, first.text
    stale = await gov.put(at, json=body, headers={**e.unit, "If-Match": e.etag})
    assert_problem(stale, 412, "precondition-failed")
    again = await gov.put(at, json=body, headers={**e.unit, "If-Match": first.headers["ETag"]})
    assert again.status_code == 200, again.text  # until the review opens, it may be sent again


async def test_only_the_evaluating_office_reviews_and_scores_in_order(
    gov: httpx.AsyncClient, token: TokenFactory
) -> None:
    e = await open_evaluation(gov, token)
    at = f"/v1/duty-evaluations/{e.evaluation['id']}"
    early = await gov.put(
        f"{at}/scores", json={"items": full_marks(e.scheme)}, headers={**e.office, "If-Match": e.etag}
    )
    assert_problem(early, 409, "duty-evaluation-wrong-status")
    await self_evaluated(gov, e)

    region = bearer(token("supervision_office", division="450000"))  # sees it, but does not run the round
    review = {"plan": "实地核查", "starts_on": "2099-01-01", "ends_on": "2099-01-02"}
    refused = await gov.post(f"{at}/review", json=review, headers={**region, "If-Match": e.etag})
    assert_problem(refused, 403, "not-the-evaluating-office")

    await reviewed(gov, e)
    assert e.evaluation["status"] == "under_review"
    late = await gov.put(
        f"{at}/self-evaluation", json={"items": full_marks(e.scheme)}, headers={**e.unit, "If-Match": e.etag}
    )
    assert_problem(late, 409, "duty-evaluation-wrong-status")

    round_now = await gov.get(f"/v1/evaluation-rounds/{e.round['id']}", headers=e.office)
    publish = await gov.post(
        f"/v1/evaluation-rounds/{e.round['id']}/publish",
        headers={**e.office, "If-Match": round_now.headers["ETag"]},
    )
    assert_problem(publish, 409, "evaluation-round-not-concluded")
    assert (await gov.get("/v1/public/duty-evaluation-results", params={"round_id": e.round["id"]})).json()[
        "items"
    ] == []
