"""The public, unauthenticated read of published circulars and published accountability decisions
(items 七, 十三 and 十四 of the Guangxi opinions): only what was published, and only its public text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from tests.accountability.conftest import COUNTY_A, Desk, Rectification, documents_of, escalated, person

PUBLIC_KEYS = {
    "id",
    "number",
    "kind",
    "title",
    "office_division",
    "office_name",
    "unit_name",
    "division_code",
    "published_on",
    "text",
    "recommendation",
    "form",
    "grounds",
}
DECISION: dict[str, Any] = {
    "target": "person",
    "form": "circular_of_criticism",
    "persons": [{"name": "王五", "position": "校长"}],
    "reasons": "整改不力，推诿扯皮。",
}


def local_day(timestamp: str) -> str:
    """The business day (Guangxi time) of an API timestamp, as a portal shows it."""
    return datetime.fromisoformat(timestamp).astimezone(BUSINESS_TZ).date().isoformat()


async def public_ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    """Every public document id, following the cursor (two per page, to exercise it)."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/public/documents", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_a_circular_is_public_only_once_published(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    case = await escalated(desk, engine, Rectification(), 3)
    office = person(settings, "supervision_office", division=COUNTY_A)
    circular = (await documents_of(accountability, case.id, office))[2]
    assert circular["kind"] == "circular"
    url = f"/v1/public/documents/{circular['id']}"

    assert circular["id"] not in await public_ids(accountability)
    hidden = await accountability.get(url)
    assert hidden.status_code == 404, hidden.text
    assert hidden.headers["content-type"] == "application/problem+json"
    # No other document of the case (urging order, interview, pending decision) is public either.
    for document in await documents_of(accountability, case.id, office):
        assert (await accountability.get(f"/v1/public/documents/{document['id']}")).status_code == 404

    published = await accountability.post(f"/v1/documents/{circular['id']}/publish", headers=office)
    assert published.status_code == 200, published.text

    shown = await accountability.get(url)  # no token
    assert shown.status_code == 200, shown.text
    public = shown.json()
    assert set(public) == PUBLIC_KEYS
    assert public["id"] == circular["id"]
    assert public["number"] == circular["number"]
    assert "通〔" in public["number"]
    assert public["kind"] == "circular"
    assert public["title"] == circular["title"]
    assert public["office_division"] == COUNTY_A
    assert public["office_name"] == "兴宁区人民政府教育督导委员会办公室"
    assert public["unit_name"] == circular["unit_name"]
    assert public["division_code"] == COUNTY_A
    assert public["published_on"] == local_day(published.json()["circular"]["published_at"])
    assert public["text"] == circular["body"]
    assert "不得评优评先" in public["recommendation"]
    assert public["form"] is None
    assert public["grounds"] is None

    assert circular["id"] in await public_ids(accountability)
    assert circular["id"] in await public_ids(accountability, kind="circular", within="4501")
    assert circular["id"] not in await public_ids(accountability, kind="accountability_decision")
    assert circular["id"] not in await public_ids(accountability, within="450103")


async def test_a_decision_is_public_only_when_decided_and_published(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    office = person(settings, "supervision_office", division=COUNTY_A)
    quiet_case = await escalated(desk, engine, Rectification(), 4)
    quiet = (await documents_of(accountability, quiet_case.id, office))[3]
    assert quiet["kind"] == "accountability_decision"
    assert (await accountability.get(f"/v1/public/documents/{quiet['id']}")).status_code == 404  # pending

    decided = await accountability.post(
        f"/v1/documents/{quiet['id']}/decision", json=DECISION, headers=office
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["published"] is False
    assert (await accountability.get(f"/v1/public/documents/{quiet['id']}")).status_code == 404
    assert quiet["id"] not in await public_ids(accountability, kind="accountability_decision")

    open_case = await escalated(desk, engine, Rectification(), 4)
    loud = (await documents_of(accountability, open_case.id, office))[3]
    published = await accountability.post(
        f"/v1/documents/{loud['id']}/decision", json={**DECISION, "publish": True}, headers=office
    )
    assert published.status_code == 200, published.text
    assert published.json()["decision"]["published"] is True

    shown = await accountability.get(f"/v1/public/documents/{loud['id']}")
    assert shown.status_code == 200, shown.text
    public = shown.json()
    assert set(public) == PUBLIC_KEYS
    assert public["kind"] == "accountability_decision"
    assert public["number"] == published.json()["number"]
    assert public["form"] == "circular_of_criticism"
    assert public["grounds"].endswith("整改不力，推诿扯皮。")
    assert public["text"] is None
    assert public["recommendation"] is None
    assert public["published_on"] == local_day(published.json()["decision"]["decided_at"])
    assert "王五" not in shown.text  # the persons it names are not on the portal
    ids = await public_ids(accountability, kind="accountability_decision", within=COUNTY_A)
    assert loud["id"] in ids
    assert quiet["id"] not in ids

    # The decision taken quietly can be published afterwards, once.
    later = await accountability.post(f"/v1/documents/{quiet['id']}/publish", headers=office)
    assert later.status_code == 200, later.text
    assert (await accountability.get(f"/v1/public/documents/{quiet['id']}")).status_code == 200
    again = await accountability.post(f"/v1/documents/{quiet['id']}/publish", headers=office)
    assert again.status_code == 409, again.text


async def test_a_pending_decision_cannot_be_published(
    accountability: httpx.AsyncClient, desk: Desk, engine: AsyncEngine, settings: Settings
) -> None:
    office = person(settings, "supervision_office", division=COUNTY_A)
    case = await escalated(desk, engine, Rectification(), 4)
    pending = (await documents_of(accountability, case.id, office))[3]
    response = await accountability.post(f"/v1/documents/{pending['id']}/publish", headers=office)
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("not-decided")
    assert (await accountability.get(f"/v1/public/documents/{pending['id']}")).status_code == 404


async def test_an_unknown_id_is_not_found(accountability: httpx.AsyncClient) -> None:
    response = await accountability.get("/v1/public/documents/01900000-0000-7000-8000-000000000000")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "urging_order"}, "kind"),  # never public
        ({"kind": "interview"}, "kind"),
        ({"within": "45x"}, "within"),
        ({"within": "4"}, "within"),
        ({"within": "4501020"}, "within"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
async def test_bad_query_parameters_get_a_problem(
    accountability: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await accountability.get("/v1/public/documents", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_bad_path_id_gets_a_problem(accountability: httpx.AsyncClient) -> None:
    response = await accountability.get("/v1/public/documents/not-a-uuid")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
