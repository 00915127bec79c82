"""Plates (挂牌督导): a public read that shows only what a plate shows, kept by the county's office."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TokenFactory, bearer
from tests.school_inspection.inspectors.support import appoint, assign, day
from tests.school_inspection.registry.conftest import COUNTY, assert_problem, counts, register

PUBLIC_INSPECTOR_FIELDS = {"name", "photo_url", "phone"}  # all that is public about an inspector
EIGHT_ITEMS = [
    "administration",
    "enrolment_fees",
    "curriculum",
    "pupil_workload",
    "teacher_ethics",
    "campus_safety",
    "hygiene",
    "school_ethos",
]


def plate(**overrides: Any) -> dict[str, Any]:
    return {
        "inspector_name": "陈督学",
        "photo_url": "https://jyj.beihai.gov.cn/dudao/photos/chen.jpg",
        "contact_phone": "13977900012",
        "published": True,
        **overrides,
    }


async def ensure_channel(client: httpx.AsyncClient, headers: dict[str, str], county: str = COUNTY) -> None:
    current = await client.get(f"/v1/complaint-channels/{county}", headers=headers)
    if current.status_code == 404:
        body = {"phone": "0779-2051234", "url": "https://jyj.beihai.gov.cn/complaints"}
        created = await client.put(f"/v1/complaint-channels/{county}", json=body, headers=headers)
        assert created.status_code == 201, created.text


async def test_a_published_plate_is_public_and_shows_nothing_else_about_the_inspector(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    await ensure_channel(inspection, office)
    school = await register(inspection, office)
    put = await inspection.put(f"/v1/schools/{school['id']}/plate", json=plate(), headers=office)
    assert put.status_code == 201, put.text
    assert put.json()["items"] == EIGHT_ITEMS

    public = await inspection.get(f"/v1/plates/{school['school_code']}")  # no credentials at all
    assert public.status_code == 200, public.text
    assert public.headers["cache-control"].startswith("public")
    body = public.json()
    assert set(body) == {
        "school_code",
        "school_name",
        "responsible_inspector",
        "supervision_items",
        "complaint_channel",
        "updated_at",
    }
    assert set(body["responsible_inspector"]) == PUBLIC_INSPECTOR_FIELDS
    assert body["responsible_inspector"] == {
        "name": "陈督学",
        "photo_url": "https://jyj.beihai.gov.cn/dudao/photos/chen.jpg",
        "phone": "13977900012",
    }
    assert [i["code"] for i in body["supervision_items"]] == EIGHT_ITEMS
    assert all(i["label"] for i in body["supervision_items"])
    channel = (await inspection.get(f"/v1/complaint-channels/{COUNTY}", headers=office)).json()
    assert body["complaint_channel"] == {"phone": channel["phone"], "url": channel["url"]}
    assert (body["school_code"], body["school_name"]) == (school["school_code"], school["name"])


async def test_without_its_own_inspector_fields_a_plate_shows_the_current_responsible_inspector(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    await ensure_channel(inspection, office)
    school = await register(inspection, office)
    url, public_url = f"/v1/schools/{school['id']}/plate", f"/v1/plates/{school['school_code']}"

    async def shown() -> dict[str, Any] | None:
        response = await inspection.get(public_url)
        assert response.status_code == 200, response.text
        inspector: dict[str, Any] | None = response.json()["responsible_inspector"]
        assert inspector is None or set(inspector) == PUBLIC_INSPECTOR_FIELDS
        return inspector

    put = await inspection.put(url, json={"published": True}, headers=office)
    assert put.status_code == 201, put.text
    assert (put.json()["inspector_name"], put.json()["photo_url"], put.json()["contact_phone"]) == (None,) * 3
    assert await shown() is None  # no responsible inspector yet

    first = await appoint(inspection, office, COUNTY, name="韦督学", contact_email="wei@jyj.example.org")
    assignment = await assign(inspection, office, first["id"], school["id"], starts_on=day(-10))
    assert assignment.status_code == 201, assignment.text
    assert await shown() == {
        "name": "韦督学",
        "photo_url": first["photo_url"],
        "phone": first["contact_phone"],
    }
    public = await inspection.get(public_url)
    for private in (first["id"], "wei@jyj.example.org", "part_time", "bachelor"):
        assert private not in public.text

    ended = await inspection.post(
        f"/v1/assignments/{assignment.json()['id']}/end", json={"ends_on": day(-1)}, headers=office
    )
    assert ended.status_code == 200, ended.text
    assert await shown() is None
    second = await appoint(
        inspection, office, COUNTY, name="蒙督学", photo_url=None, contact_phone="13807712345"
    )
    assert (await assign(inspection, office, second["id"], school["id"])).status_code == 201
    assert await shown() == {"name": "蒙督学", "photo_url": None, "phone": "13807712345"}

    chosen = await inspection.put(url, json=plate(), headers={**office, "If-Match": put.headers["etag"]})
    assert chosen.status_code == 200, chosen.text
    assert await shown() == {  # the office's explicit choice wins over the assignment
        "name": "陈督学",
        "photo_url": "https://jyj.beihai.gov.cn/dudao/photos/chen.jpg",
        "phone": "13977900012",
    }
    again = await inspection.put(
        url, json={"published": True}, headers={**office, "If-Match": chosen.headers["etag"]}
    )
    assert again.status_code == 200, again.text
    assert (await shown() or {})["name"] == "蒙督学"


async def test_unknown_and_unpublished_plates_are_not_found(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    await ensure_channel(inspection, office)
    school = await register(inspection, office)
    assert_problem(await inspection.get(f"/v1/plates/{school['school_code']}"), 404, "plate-not-found")
    hidden = plate(published=False, items=["campus_safety", "hygiene"])
    assert (
        await inspection.put(f"/v1/schools/{school['id']}/plate", json=hidden, headers=office)
    ).status_code == 201
    assert_problem(await inspection.get(f"/v1/plates/{school['school_code']}"), 404, "plate-not-found")
    own = await inspection.get(f"/v1/schools/{school['id']}/plate", headers=office)
    assert (own.json()["published"], own.json()["items"]) == (False, ["campus_safety", "hygiene"])
    assert_problem(await inspection.get("/v1/plates/not-a-code"), 422)


async def test_publishing_needs_the_countys_complaint_channel(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    county = "450512"  # 铁山港区: no channel is ever set here
    office = bearer(token("supervision_office", division=county))
    school = await register(inspection, office, division_code=county)
    before = await counts(engine, "plate")
    refused = await inspection.put(f"/v1/schools/{school['id']}/plate", json=plate(), headers=office)
    assert_problem(refused, 409, "complaint-channel-missing")
    assert await counts(engine, "plate") == before
    unpublished = await inspection.put(
        f"/v1/schools/{school['id']}/plate", json=plate(published=False), headers=office
    )
    assert unpublished.status_code == 201


async def test_replacing_a_plate_or_a_channel_needs_the_current_etag(
    inspection: httpx.AsyncClient, office: dict[str, str]
) -> None:
    await ensure_channel(inspection, office)
    school = await register(inspection, office)
    url = f"/v1/schools/{school['id']}/plate"
    first = await inspection.put(url, json=plate(), headers=office)
    assert_problem(await inspection.put(url, json=plate(inspector_name="林督学"), headers=office), 428)
    second = await inspection.put(
        url, json=plate(inspector_name="林督学"), headers={**office, "If-Match": first.headers["etag"]}
    )
    assert (second.status_code, second.json()["version"]) == (200, 2)
    stale = await inspection.put(url, json=plate(), headers={**office, "If-Match": first.headers["etag"]})
    assert_problem(stale, 412)
    public = (await inspection.get(f"/v1/plates/{school['school_code']}")).json()
    assert public["responsible_inspector"]["name"] == "林督学"

    channel_url = f"/v1/complaint-channels/{COUNTY}"
    channel = await inspection.get(channel_url, headers=office)
    assert_problem(await inspection.put(channel_url, json={"phone": "12345"}, headers=office), 428)
    replaced = await inspection.put(
        channel_url, json={"phone": "12345"}, headers={**office, "If-Match": channel.headers["etag"]}
    )
    assert (replaced.status_code, replaced.json()["url"]) == (200, None)
    public = (await inspection.get(f"/v1/plates/{school['school_code']}")).json()
    assert public["complaint_channel"] == {"phone": "12345", "url": None}


async def test_plates_and_channels_stay_within_jurisdiction(
    inspection: httpx.AsyncClient,
    office: dict[str, str],
    other_office: dict[str, str],
    inspector: dict[str, str],
    engine: AsyncEngine,
) -> None:
    await ensure_channel(inspection, office)
    school = await register(inspection, office)
    url = f"/v1/schools/{school['id']}/plate"
    before = await counts(engine, "plate", "complaint_channel")
    assert_problem(await inspection.put(url, json=plate(), headers=other_office), 404, "school-not-found")
    assert_problem(await inspection.put(url, json=plate(), headers=inspector), 403)
    outside = await inspection.put(
        f"/v1/complaint-channels/{COUNTY}", json={"phone": "12345"}, headers=other_office
    )
    assert_problem(outside, 403, "division-outside-jurisdiction")
    city = await inspection.put("/v1/complaint-channels/450500", json={"phone": "12345"}, headers=office)
    assert_problem(city, 422)
    assert await counts(engine, "plate", "complaint_channel") == before

    assert (await inspection.put(url, json=plate(), headers=office)).status_code == 201
    assert (await inspection.get(url, headers=inspector)).status_code == 200
    assert_problem(await inspection.get(url, headers=other_office), 404)
    assert_problem(await inspection.get(f"/v1/complaint-channels/{COUNTY}", headers=other_office), 404)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"photo_url": "http://jyj.beihai.gov.cn/chen.jpg"}, "photo_url"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"items": []}, "items"),
        ({"items": ["hygiene", "hygiene"]}, "items"),
        ({"items": ["canteen"]}, "items.0"),
        ({"published": "true"}, "published"),
        ({"inspector_name": ""}, "inspector_name"),
        ({"photo_url": None}, "body"),  # the inspector fields come all three together, or not at all
        ({"inspector_name": None, "photo_url": None}, "body"),
        ({"id_number": "450502198001011234"}, "id_number"),
    ],
)
async def test_bad_plates_are_refused_and_write_nothing(
    inspection: httpx.AsyncClient,
    office: dict[str, str],
    engine: AsyncEngine,
    overrides: dict[str, Any],
    field: str,
) -> None:
    school = await register(inspection, office)
    before = await counts(engine, "plate")
    response = await inspection.put(
        f"/v1/schools/{school['id']}/plate", json=plate(**overrides), headers=office
    )
    assert field in {e["field"] for e in assert_problem(response, 422)["errors"]}
    assert await counts(engine, "plate") == before
