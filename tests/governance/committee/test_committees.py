"""Committees with their people, member units and liaisons: kept by the division's office; a member unit
reads its own committee's directory, and liaisons' contacts are sealed at rest and masked for whoever does
not need them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.committee.models import Committee, CommitteeMember, Liaison
from governance.db import kit
from tests.conftest import TokenFactory, bearer
from tests.governance.office.test_offices import abbreviation
from tests.governance.unit.support import Headers, assert_problem

CITY, COUNTY = "451300", "451302"  # 来宾市, 兴宾区
PHONE, EMAIL = "13877112345", "liaison@lbjw.gov.cn"


async def record_office(governance: httpx.AsyncClient, office: Headers, division: str) -> dict[str, Any]:
    body = {
        "division_code": division,
        "name": f"{division}教育督导委员会办公室",
        "abbreviation": abbreviation(),
    }
    response = await governance.post("/v1/supervision-offices", json=body, headers=office)
    assert response.status_code == 201, response.text
    return dict(response.json())


def committee_body(division: str, office_id: str) -> dict[str, Any]:
    return {
        "division_code": division,
        "name": f"{division}人民政府教育督导委员会",
        "office_id": office_id,
        "chair": {"name": "韦一", "post": "副市长"},
        "vice_chairs": [{"name": "覃二", "post": "教育局局长"}],
        "chief_inspector": {"name": "黄三", "post": "总督学"},
        "deputy_chief_inspectors": [{"name": "蓝四", "post": "副总督学"}],
    }


async def form(governance: httpx.AsyncClient, office: Headers, division: str) -> dict[str, Any]:
    recorded = await record_office(governance, office, division)
    response = await governance.post(
        "/v1/committees", json=committee_body(division, recorded["id"]), headers=office
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def add_member(
    governance: httpx.AsyncClient, office: Headers, committee_id: str, name: str
) -> dict[str, Any]:
    response = await governance.post(
        f"/v1/committees/{committee_id}/members", json={"name": name, "duties": "监督问责"}, headers=office
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def counts(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [
            (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (Committee, CommitteeMember, Liaison, kit.audit_log)
        ]


async def test_a_member_unit_reads_its_committees_directory_and_contacts_are_masked_for_others(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    office = bearer(token("supervision_office", division=CITY))
    committee = await form(governance, office, CITY)
    assert committee["chief_inspector"] == {"name": "黄三", "post": "总督学"}
    discipline = await add_member(governance, office, committee["id"], "来宾市纪委监委")
    organisation = await add_member(governance, office, committee["id"], "来宾市委组织部")

    as_discipline = bearer(token("member_unit", division=CITY, org=discipline["id"]))
    named = await governance.post(
        f"/v1/committees/{committee['id']}/members/{discipline['id']}/liaisons",
        json={"name": "莫五", "post": "科长", "phone": PHONE, "email": EMAIL},
        headers=as_discipline,
    )
    assert named.status_code == 201, named.text
    assert (named.json()["phone"], named.json()["masked"]) == (PHONE, False)

    async with engine.connect() as conn:
        stored = (await conn.execute(select(Liaison.phone_sealed, Liaison.email_sealed))).all()
        dumped = (
            await conn.execute(text("SELECT string_agg(liaison::text, '') FROM governance.liaison"))
        ).scalar()
    assert all(PHONE not in phone and EMAIL not in (email or "") for phone, email in stored)
    assert dumped is not None
    assert PHONE not in dumped

    def liaisons(directory: dict[str, Any]) -> list[dict[str, Any]]:
        return [liaison for member in directory["members"] for liaison in member["liaisons"]]

    for reader, phone, email in (
        (office, PHONE, EMAIL),
        (as_discipline, PHONE, EMAIL),
        (
            bearer(token("member_unit", division=CITY, org=organisation["id"])),
            "138****2345",
            "l***@lbjw.gov.cn",
        ),
        (bearer(token("inspector", division=CITY)), "138****2345", "l***@lbjw.gov.cn"),
    ):
        directory = await governance.get(f"/v1/committees/{committee['id']}", headers=reader)
        assert directory.status_code == 200, directory.text
        assert [m["name"] for m in directory.json()["members"]] == ["来宾市委组织部", "来宾市纪委监委"]
        assert [(x["phone"], x["email"]) for x in liaisons(directory.json())] == [(phone, email)]
    async with engine.connect() as conn:  # the two reads in full are audited, the masked ones are not
        reads = await conn.execute(
            select(func.count()).where(
                kit.audit_log.c.action == "liaison.contacts_read",
                kit.audit_log.c.record_id == named.json()["id"],
            )
        )
    assert reads.scalar_one() == 2

    # Another committee's member unit: none of this committee, not even in its jurisdiction.
    county_office = bearer(token("supervision_office", division=COUNTY))
    county = await form(governance, county_office, COUNTY)
    county_member = await add_member(governance, county_office, county["id"], "兴宾区纪委监委")
    foreign = bearer(token("member_unit", division=CITY, org=county_member["id"]))
    assert_problem(
        await governance.get(f"/v1/committees/{committee['id']}", headers=foreign), 404, "committee-not-found"
    )
    listed = await governance.get("/v1/committees", headers=foreign)
    assert [c["id"] for c in listed.json()["items"]] == [county["id"]]
    assert_problem(
        await governance.get(f"/v1/committees/{committee['id']}", headers=county_office),
        404,
        "committee-not-found",
    )
    synced = await governance.get(
        "/v1/committees",
        params={"updated_since": committee["updated_at"], "within": CITY[:4]},
        headers=office,
    )
    assert [c["id"] for c in synced.json()["items"]] == [committee["id"], county["id"]]


async def test_bad_committee_input_names_the_field_and_writes_nothing(
    governance: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    division = "451321"  # 忻城县
    office = bearer(token("supervision_office", division=division))
    committee = await form(governance, office, division)
    member = await add_member(governance, office, committee["id"], "忻城县委组织部")
    other = await add_member(governance, office, committee["id"], "忻城县纪委监委")
    city_office = bearer(token("supervision_office", division=CITY))
    before = await counts(engine)

    again = await governance.post(
        "/v1/committees", json=committee_body(division, committee["office_id"]), headers=office
    )
    assert_problem(again, 409, "committee-formed")
    unknown = committee_body(division, "01900000-0000-7000-8000-000000000000")
    assert_problem(
        await governance.post("/v1/committees", json=unknown, headers=office),
        422,
        "unknown-supervision-office",
        "office_id",
    )
    nameless = {**committee_body(division, committee["office_id"]), "chair": {"post": "县长"}}
    assert_problem(
        await governance.post("/v1/committees", json=nameless, headers=office),
        422,
        "validation-error",
        "chair.name",
    )
    by_city = await governance.post(
        f"/v1/committees/{committee['id']}/members",
        json={"name": "县财政局", "duties": "经费"},
        headers=city_office,
    )
    assert_problem(by_city, 403, "not-the-supervision-office")
    twin = await governance.post(
        f"/v1/committees/{committee['id']}/members",
        json={"name": member["name"], "duties": "x"},
        headers=office,
    )
    assert_problem(twin, 409, "committee-member-taken")
    liaisons = f"/v1/committees/{committee['id']}/members/{member['id']}/liaisons"
    bad_phone = {"name": "莫五", "post": "科长", "phone": "12345"}
    assert_problem(
        await governance.post(liaisons, json=bad_phone, headers=office), 422, "validation-error", "phone"
    )
    as_other = bearer(token("member_unit", division=division, org=other["id"]))
    good = {"name": "莫五", "post": "科长", "phone": PHONE}
    assert_problem(await governance.post(liaisons, json=good, headers=as_other), 403, "not-the-member-unit")
    assert await counts(engine) == before


async def test_changes_need_the_etag_and_a_liaisons_new_phone_is_sealed_too(
    governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    division = "451322"  # 象州县
    office = bearer(token("supervision_office", division=division))
    committee = await form(governance, office, division)
    member = await add_member(governance, office, committee["id"], "象州县委组织部")
    liaison = await governance.post(
        f"/v1/committees/{committee['id']}/members/{member['id']}/liaisons",
        json={"name": "莫五", "post": "科长", "phone": PHONE, "email": EMAIL},
        headers=office,
    )
    path = f"/v1/committees/{committee['id']}/liaisons/{liaison.json()['id']}"
    stale = await governance.patch(
        path, json={"phone": "0772-4212345"}, headers={**office, "If-Match": '"0-1"'}
    )
    assert_problem(stale, 412, "precondition-failed")
    changed = await governance.patch(
        path,
        json={"phone": "0772-4212345", "email": None},
        headers={**office, "If-Match": liaison.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["phone"], changed.json()["email"], changed.json()["version"]) == (
        "0772-4212345",
        None,
        2,
    )

    read = await governance.get(f"/v1/committees/{committee['id']}", headers=office)
    renamed = await governance.patch(
        f"/v1/committees/{committee['id']}",
        json={"chief_inspector": None, "vice_chairs": []},
        headers={**office, "If-Match": read.headers["ETag"]},
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["chief_inspector"], renamed.json()["vice_chairs"], renamed.json()["version"]) == (
        None,
        [],
        2,
    )
    duties = await governance.patch(
        f"/v1/committees/{committee['id']}/members/{member['id']}",
        json={"duties": "干部考核"},
        headers={**office, "If-Match": member_etag(member)},
    )
    assert duties.status_code == 200, duties.text
    assert duties.json()["duties"] == "干部考核"


def member_etag(member: dict[str, Any]) -> str:
    return f'"{member["id"].replace("-", "")[:12]}-{member["version"]}"'
