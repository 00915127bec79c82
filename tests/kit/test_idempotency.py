"""Idempotency-Key over HTTP: a key is claimed in the request's own transaction, before its effects.

Driven through POST /v1/schools, whose domain conflict (``school-code-taken``) is what a duplicate
that ran its effects a second time would get.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import httpx
from sqlalchemy import Table, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.runtime import Runtime
from school_inspection.school.models import School
from tests.conftest import TokenFactory, bearer, random_school_code

COUNTY_A, COUNTY_B = "450102", "450103"
IN_PROGRESS = "urn:dudao:problem:idempotency-in-progress"


def new_school() -> dict[str, Any]:
    return {
        "school_code": random_school_code(),
        "name": "南宁市幂等小学",
        "school_type": "primary",
        "ownership": "public",
        "division_code": COUNTY_A,
        "address": "民族大道9号",
        "enrolment": 800,
    }


def office(
    token: TokenFactory, key: str, *, sub: str | None = None, division: str = COUNTY_A
) -> dict[str, str]:
    return {**bearer(token("supervision_office", division=division, sub=sub)), "Idempotency-Key": key}


async def schools_with_code(engine: AsyncEngine, code: str) -> int:
    async with engine.connect() as conn:
        count = select(func.count()).select_from(School).where(School.school_code == code)
        return (await conn.execute(count)).scalar_one()


def runtime_of(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    return rt


@contextmanager
def checkouts_by_task(rt: Runtime) -> Iterator[list[asyncio.Task[Any] | None]]:
    """The task of every connection checkout from the service's pool while the block runs.

    The ASGI transport runs a request in the task that sends it, and the pool's events fire in the
    task that checks out, so a request's connections are told apart from the background tasks'.
    """
    tasks: list[asyncio.Task[Any] | None] = []

    def on_checkout(*_: object) -> None:
        tasks.append(asyncio.current_task())

    pool = rt.engine.sync_engine.pool
    event.listen(pool, "checkout", on_checkout)
    try:
        yield tasks
    finally:
        event.remove(pool, "checkout", on_checkout)


async def test_concurrent_duplicates_get_the_first_response_or_in_progress_never_the_domain_conflict(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    body = new_school()
    headers = office(token, f"burst-{secrets.token_hex(6)}")

    async def post(delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        return await inspection.post("/v1/schools", json=body, headers=headers)

    # Four at once, four staggered: the burst meets the first request both running and committed.
    responses = await asyncio.gather(*(post(max(0, i - 3) * 0.004) for i in range(8)))

    assert await schools_with_code(engine, body["school_code"]) == 1
    created = [r for r in responses if r.status_code == 201]
    others = [r for r in responses if r.status_code != 201]
    assert all(r.status_code == 409 and r.json()["type"] == IN_PROGRESS for r in others), [
        r.text for r in others
    ]
    assert len({r.text for r in created}) == len({r.headers["location"] for r in created}) == 1
    assert [r.headers.get("idempotent-replayed") for r in created].count(None) == 1
    assert all(r.headers.get("idempotent-replayed") in (None, "true") for r in created)
    # Whatever the interleaving, the response is stored once the burst is over.
    retried = await inspection.post("/v1/schools", json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.headers["location"] == created[0].headers["location"]
    assert retried.text == created[0].text


async def test_a_duplicate_while_the_first_is_running_is_in_progress_and_then_replays(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    body = new_school()
    headers = office(token, f"slow-{secrets.token_hex(6)}")
    async with engine.connect() as blocker:
        # Holds the first request inside its transaction, after its key is claimed, at its insert.
        await blocker.execute(text(f"LOCK TABLE {cast(Table, School.__table__).fullname} IN EXCLUSIVE MODE"))
        first = asyncio.create_task(inspection.post("/v1/schools", json=body, headers=headers))
        blocked = text(
            "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        async with asyncio.timeout(10):
            while True:
                if (await blocker.execute(blocked)).scalar_one():
                    break
                await asyncio.sleep(0.01)
        async with asyncio.timeout(10):  # a duplicate that ran the endpoint would wait at the insert
            duplicate = await inspection.post("/v1/schools", json=body, headers=headers)
        await blocker.rollback()
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.json()["type"] == IN_PROGRESS
    original = await first
    assert original.status_code == 201, original.text
    assert "idempotent-replayed" not in original.headers
    replayed = await inspection.post("/v1/schools", json=body, headers=headers)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == original.json()
    assert replayed.headers["location"] == original.headers["location"]
    assert await schools_with_code(engine, body["school_code"]) == 1


async def test_a_duplicate_after_a_failed_first_request_runs_afresh(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    body, key, sub = new_school(), f"after-failure-{secrets.token_hex(6)}", f"user-{secrets.token_hex(4)}"
    # The same person, first with a home division that does not cover the school's county.
    refused = await inspection.post(
        "/v1/schools", json=body, headers=office(token, key, sub=sub, division=COUNTY_B)
    )
    assert refused.status_code == 403, refused.text
    created = await inspection.post("/v1/schools", json=body, headers=office(token, key, sub=sub))
    assert created.status_code == 201, created.text
    assert "idempotent-replayed" not in created.headers
    assert await schools_with_code(engine, body["school_code"]) == 1


async def test_reusing_a_key_for_a_different_body_is_refused_and_writes_nothing(
    inspection: httpx.AsyncClient, token: TokenFactory, engine: AsyncEngine
) -> None:
    headers = office(token, f"reuse-{secrets.token_hex(6)}")
    assert (await inspection.post("/v1/schools", json=new_school(), headers=headers)).status_code == 201
    other = new_school()
    reused = await inspection.post("/v1/schools", json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:dudao:problem:idempotency-key-reused"
    assert await schools_with_code(engine, other["school_code"]) == 0


async def test_the_same_key_from_another_principal_is_a_request_of_its_own(
    inspection: httpx.AsyncClient, token: TokenFactory
) -> None:
    key = f"shared-{secrets.token_hex(6)}"
    first = await inspection.post("/v1/schools", json=new_school(), headers=office(token, key))
    second = await inspection.post("/v1/schools", json=new_school(), headers=office(token, key))
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]


async def test_an_idempotent_post_and_its_replay_each_check_out_one_connection(
    inspection: httpx.AsyncClient, token: TokenFactory
) -> None:
    body = new_school()
    headers = office(token, f"one-session-{secrets.token_hex(6)}")
    with checkouts_by_task(runtime_of(inspection)) as tasks:
        posted = asyncio.create_task(inspection.post("/v1/schools", json=body, headers=headers))
        assert (await posted).status_code == 201
        replayed = asyncio.create_task(inspection.post("/v1/schools", json=body, headers=headers))
        assert (await replayed).headers["idempotent-replayed"] == "true"
        plain = asyncio.create_task(
            inspection.post(
                "/v1/schools",
                json=new_school(),
                headers=bearer(token("supervision_office", division=COUNTY_A)),
            )
        )
        assert (await plain).status_code == 201
    assert (tasks.count(posted), tasks.count(replayed), tasks.count(plain)) == (1, 1, 1)
