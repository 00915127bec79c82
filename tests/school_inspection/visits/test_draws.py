"""Double-random draws (双随机): commit to a seed's hash, reveal, re-run: the same seed, the same draw."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from school_inspection.draw import algorithm
from tests.conftest import TokenFactory, bearer
from tests.school_inspection.inspectors.support import appoint, recommend
from tests.school_inspection.visits.support import (
    Headers,
    assert_problem,
    counts,
    new_inspector,
    recuse,
    register_school,
    time_moved,
)

COUNTY, CITY, OTHER_COUNTY = "450602", "450600", "450503"  # 港口区, its city 防城港市; 银海区 in Beihai
SCHOOLS = [f"0190{n:04x}-0000-7000-8000-000000000000" for n in range(40)]
INSPECTORS = [f"0191{n:04x}-0000-7000-8000-000000000000" for n in range(12)]


def seed() -> str:
    return secrets.token_hex(32)


def test_the_same_seed_gives_the_same_draw_whatever_order_the_pools_come_in() -> None:
    s = seed()
    first = algorithm.draw(s, "ab" * 16, SCHOOLS, INSPECTORS, [], 5, 3)
    again = algorithm.draw(s, "ab" * 16, list(reversed(SCHOOLS)), INSPECTORS[::-1], [], 5, 3)
    assert first == again
    assert len(set(first.schools)) == 5
    assert len(set(first.inspectors)) == 3
    assert algorithm.draw(seed(), "ab" * 16, SCHOOLS, INSPECTORS, [], 5, 3) != first
    assert algorithm.draw(s, "cd" * 16, SCHOOLS, INSPECTORS, [], 5, 3) != first  # the nonce counts too


def test_the_algorithm_is_the_documented_one() -> None:
    """HMAC-SHA256(seed, "<nonce>:<k>") blocks driving a partial Fisher–Yates, written out independently."""
    import hashlib
    import hmac

    s, nonce = "示例种子-0123456789abcdef0123456789abcdef", "00" * 16
    k = 0

    def below(n: int) -> int:
        nonlocal k
        while True:
            x = int.from_bytes(hmac.new(s.encode(), f"{nonce}:{k}".encode(), hashlib.sha256).digest(), "big")
            k += 1
            if x < n * (2**256 // n):
                return x % n

    pool = sorted(SCHOOLS)
    for i in range(4):
        j = i + below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    assert algorithm.draw(s, nonce, SCHOOLS, INSPECTORS, [], 4, 1).schools == pool[:4]


def test_recused_pairs_are_never_drawn_together() -> None:
    # Every inspector but the last two has a conflict with some school.
    excluded = [[INSPECTORS[n % 10], SCHOOLS[n]] for n in range(40)]
    for _ in range(200):
        outcome = algorithm.draw(seed(), secrets.token_hex(16), SCHOOLS, INSPECTORS, excluded, 3, 2)
        if outcome.void_reason:
            continue
        pairs = {(i, s) for i in outcome.inspectors for s in outcome.schools}
        assert not pairs & {(i, s) for i, s in excluded}


def test_a_draw_is_void_when_every_team_would_hold_a_recused_inspector() -> None:
    excluded = [[i, s] for i in INSPECTORS for s in SCHOOLS]
    outcome = algorithm.draw(seed(), "00" * 16, SCHOOLS, INSPECTORS, excluded, 1, 1)
    assert outcome.inspectors == []
    assert outcome.void_reason is not None
    with pytest.raises(ValueError, match="cannot draw"):
        algorithm.draw(seed(), "00" * 16, SCHOOLS[:2], INSPECTORS, [], 3, 1)


@pytest.fixture(scope="module")
async def office(token: TokenFactory) -> Headers:
    return bearer(token("supervision_office", division=COUNTY))


@pytest.fixture(scope="module")
async def pools(inspection: httpx.AsyncClient, office: Headers) -> tuple[list[dict[str, Any]], list[str]]:
    schools = [await register_school(inspection, office, COUNTY) for _ in range(6)]
    inspectors = [await new_inspector(inspection, office, COUNTY) for _ in range(4)]
    return schools, inspectors


def commitment(secret: str, inspectors: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "division_code": COUNTY,
        "purpose": "2026年秋季学期随机督导",
        "school_count": 2,
        "inspector_count": 2,
        "seed_hash": algorithm.seed_hash(secret),
        "inspector_ids": inspectors,
        **overrides,
    }


async def test_commit_reveal_verify(
    inspection: httpx.AsyncClient,
    office: Headers,
    pools: tuple[list[dict[str, Any]], list[str]],
    inspection_engine: AsyncEngine,
) -> None:
    schools, inspectors = pools
    await recuse(inspection, office, inspectors[0], schools[0]["id"])
    secret = seed()
    committed = await inspection.post("/v1/draws", json=commitment(secret, inspectors), headers=office)
    assert committed.status_code == 201, committed.text
    draw = committed.json()
    url = f"/v1/draws/{draw['id']}"
    assert (draw["status"], draw["seed"], draw["drawn_school_ids"]) == ("committed", None, None)
    assert {s["id"] for s in schools} <= set(draw["school_pool"])
    assert draw["school_pool"] == sorted(draw["school_pool"])
    assert draw["inspector_pool"] == sorted(inspectors)
    assert [inspectors[0], schools[0]["id"]] in draw["excluded_pairs"]
    assert_problem(await inspection.get(f"{url}/verify", headers=office), 409, "draw-not-revealed")

    before = await counts(inspection_engine)
    wrong = await inspection.post(f"{url}/reveal", json={"seed": seed()}, headers=office)
    assert_problem(wrong, 422, "seed-mismatch")
    assert await counts(inspection_engine) == before
    assert (await inspection.get(url, headers=office)).json()["status"] == "committed"

    revealed = await inspection.post(f"{url}/reveal", json={"seed": secret}, headers=office)
    assert revealed.status_code == 200, revealed.text
    result = revealed.json()
    assert result["status"] in ("revealed", "void")
    assert result["seed"] == secret
    expected = algorithm.draw(
        secret,
        result["nonce"],
        result["school_pool"],
        result["inspector_pool"],
        result["excluded_pairs"],
        result["school_count"],
        result["inspector_count"],
    )
    assert (result["drawn_school_ids"], result["drawn_inspector_ids"]) == (
        expected.schools,
        expected.inspectors,
    )
    pairs = {(i, s) for i in result["drawn_inspector_ids"] for s in result["drawn_school_ids"]}
    assert (inspectors[0], schools[0]["id"]) not in pairs

    verified = await inspection.get(f"{url}/verify", headers=office)
    assert verified.status_code == 200
    assert verified.json()["matches"] is True
    assert verified.json()["seed_matches_hash"] is True
    assert verified.json()["recomputed_school_ids"] == result["drawn_school_ids"]
    again = await inspection.post(f"{url}/reveal", json={"seed": secret}, headers=office)
    assert_problem(again, 409, "draw-already-revealed")


async def test_draws_are_seen_only_within_ones_jurisdiction(
    inspection: httpx.AsyncClient,
    office: Headers,
    pools: tuple[list[dict[str, Any]], list[str]],
    token: TokenFactory,
    inspection_engine: AsyncEngine,
) -> None:
    secret = seed()
    draw = (await inspection.post("/v1/draws", json=commitment(secret, pools[1]), headers=office)).json()
    outsider = bearer(token("supervision_office", division=OTHER_COUNTY))
    url = f"/v1/draws/{draw['id']}"
    assert_problem(await inspection.get(url, headers=outsider), 404, "draw-not-found")
    assert_problem(await inspection.get(f"{url}/verify", headers=outsider), 404)
    before = await counts(inspection_engine)
    assert_problem(await inspection.post(f"{url}/reveal", json={"seed": secret}, headers=outsider), 404)
    assert_problem(
        await inspection.post("/v1/draws", json=commitment(secret, pools[1]), headers=outsider),
        403,
        "division-outside-jurisdiction",
    )
    assert await counts(inspection_engine) == before
    listed = await inspection.get("/v1/draws", params={"limit": 500}, headers=outsider)
    assert draw["id"] not in {d["id"] for d in listed.json()["items"]}
    mine = await inspection.get("/v1/draws", params={"limit": 500}, headers=office)
    assert draw["id"] in {d["id"] for d in mine.json()["items"]}


@pytest.mark.parametrize(
    ("overrides", "status", "type_slug"),
    [
        ({"seed_hash": "ABC"}, 422, "validation-error"),
        ({"seed_hash": "A" * 64}, 422, "validation-error"),  # lowercase hex only
        ({"school_count": 0}, 422, "validation-error"),
        ({"school_count": True}, 422, "validation-error"),
        ({"school_count": 1000}, 422, "draw-pool-too-small"),
        ({"inspector_count": 9}, 422, "draw-pool-too-small"),
        ({"school_types": ["university"]}, 422, "validation-error"),
        ({"division_code": "999999"}, 422, "invalid-division-code"),
        ({"inspector_ids": ["01900000-0000-7000-8000-00000000abcd"]}, 422, "unknown-inspectors"),
        ({"extra": "x"}, 422, "validation-error"),
    ],
)
async def test_bad_commitments_get_a_problem_and_write_nothing(
    inspection: httpx.AsyncClient,
    office: Headers,
    pools: tuple[list[dict[str, Any]], list[str]],
    inspection_engine: AsyncEngine,
    overrides: dict[str, Any],
    status: int,
    type_slug: str,
) -> None:
    before = await counts(inspection_engine)
    body = {**commitment(seed(), pools[1]), **overrides}
    assert_problem(await inspection.post("/v1/draws", json=body, headers=office), status, type_slug)
    assert await counts(inspection_engine) == before


async def test_without_named_inspectors_a_draw_takes_those_who_may_serve_that_day(
    inspection: httpx.AsyncClient, office: Headers, pools: tuple[list[dict[str, Any]], list[str]]
) -> None:
    serving = pools[1]
    untrained = await new_inspector(inspection, office, COUNTY, trained=False)
    recommended = (await recommend(inspection, office, COUNTY))["id"]
    part_time = (await appoint(inspection, office, COUNTY))["id"]  # its first term runs 3 years
    ended = await new_inspector(inspection, office, COUNTY)
    unqualified = {"year": clock.today().year, "rating": "unqualified", "reviewed_on": str(clock.today())}
    review = await inspection.post(f"/v1/inspectors/{ended}/reviews", json=unqualified, headers=office)
    assert review.status_code == 201, review.text
    body = commitment(seed(), serving)
    del body["inspector_ids"]

    committed = await inspection.post("/v1/draws", json=body, headers=office)
    assert committed.status_code == 201, committed.text
    pool = committed.json()["inspector_pool"]
    assert pool == sorted(pool)
    assert {*serving, part_time} <= set(pool)
    assert not {untrained, recommended, ended} & set(pool)
    with time_moved(timedelta(days=3 * 366)):  # past the part-time inspector's term
        later = await inspection.post("/v1/draws", json=body, headers=office)
    assert later.status_code == 201, later.text
    assert set(serving) <= set(later.json()["inspector_pool"])
    assert part_time not in later.json()["inspector_pool"]


async def test_a_named_inspector_outside_the_pool_is_refused_and_nothing_is_written(
    inspection: httpx.AsyncClient,
    office: Headers,
    token: TokenFactory,
    pools: tuple[list[dict[str, Any]], list[str]],
    inspection_engine: AsyncEngine,
) -> None:
    city = bearer(token("supervision_office", division=CITY))
    untrained = await new_inspector(inspection, office, COUNTY, trained=False)
    recommended = (await recommend(inspection, office, COUNTY))["id"]
    citys_own = await new_inspector(inspection, city, CITY)  # may serve, but is not the county's
    before = await counts(inspection_engine)
    for stranger, status, slug in (
        (untrained, 409, "inspector-untrained"),
        (recommended, 409, "inspector-not-appointed"),
        (citys_own, 422, "unknown-inspectors"),
    ):
        body = commitment(seed(), [*pools[1], stranger])
        refused = await inspection.post("/v1/draws", json=body, headers=city)
        assert_problem(refused, status, slug)
        assert stranger in refused.json()["detail"]
    assert await counts(inspection_engine) == before


async def test_a_short_seed_is_refused_at_the_reveal(
    inspection: httpx.AsyncClient, office: Headers, pools: tuple[list[dict[str, Any]], list[str]]
) -> None:
    short = "1234"
    draw = (await inspection.post("/v1/draws", json=commitment(short, pools[1]), headers=office)).json()
    refused = await inspection.post(f"/v1/draws/{draw['id']}/reveal", json={"seed": short}, headers=office)
    assert_problem(refused, 422, "validation-error")
