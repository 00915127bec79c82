"""The edges of every service's HTTP: a long query string, a body over the limit, a sync timestamp that is
not one, an Idempotency-Key on a public route. Each is a problem+json naming what is wrong."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dudao.config import Settings
from dudao.http.app import create_service_app
from tests.conftest import TokenFactory, bearer, serve


@asynccontextmanager
async def _listening(app: FastAPI, http: Literal["h11", "httptools"]) -> AsyncIterator[str]:
    """``app`` behind a real uvicorn on a free port: the server's own limits are part of what is tested."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, http=http, log_level="warning"))
    running = asyncio.create_task(server.serve())
    while not server.started:
        assert not running.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await running


@pytest.mark.parametrize(("http", "longest"), [("httptools", 60_000), ("h11", 15_000)])
async def test_a_query_string_over_the_limit_is_a_414_problem_through_the_real_server(
    settings: Settings, token: TokenFactory, http: Literal["h11", "httptools"], longest: int
) -> None:
    from school_inspection.main import spec

    office = bearer(token("supervision_office", division="450102"))
    async with _listening(create_service_app(spec, settings), http) as url, httpx.AsyncClient() as client:
        within = await client.get(f"{url}/v1/divisions", params={"q": "x" * 7000}, headers=office)
        assert within.status_code == 200, within.text
        for size in (settings.max_query_bytes + 1, longest):
            over = await client.get(f"{url}/v1/divisions", params={"q": "x" * size}, headers=office)
            assert over.status_code == 414, (size, over.text[:200])
            assert over.headers["content-type"] == "application/problem+json"
            assert over.headers["x-content-type-options"] == "nosniff"
            assert over.json()["type"] == "urn:dudao:problem:uri-too-long"
            assert str(settings.max_query_bytes) in over.json()["detail"]


async def test_a_body_over_the_limit_is_one_413_problem_declared_or_streamed(
    inspection: httpx.AsyncClient, token: TokenFactory, settings: Settings
) -> None:
    office = {**bearer(token("supervision_office", division="450102")), "content-type": "application/json"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(settings.max_body_bytes // 100_000 + 2):
            yield b" " * 100_000

    declared = await inspection.post(
        "/v1/schools", content=b" " * (settings.max_body_bytes + 1), headers=office
    )
    streamed = await inspection.post("/v1/schools", content=chunks(), headers=office)
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:dudao:problem:payload-too-large"
        assert response.json()["title"] == "The request is larger than allowed"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "ISO 8601"),
        ("1950", "ISO 8601"),
        ("2026-03-01", "ISO 8601"),
        ("2026-03-01T08:00:00", "timezone"),
        ("1999-12-31T23:59:59Z", "before 2000-01-01"),
    ],
)
async def test_updated_since_must_be_an_aware_iso_timestamp_from_2000_on(
    inspection: httpx.AsyncClient, token: TokenFactory, value: str, message: str
) -> None:
    office = bearer(token("supervision_office", division="450102"))
    response = await inspection.get("/v1/rectifications", params={"updated_since": value}, headers=office)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["in"]) == ("updated_since", "query")
    assert message in error["message"]


async def test_an_aware_updated_since_syncs(inspection: httpx.AsyncClient, token: TokenFactory) -> None:
    office = bearer(token("supervision_office", division="450102"))
    for value in ("2026-03-01T08:00:00+08:00", "2000-01-01T00:00:00Z"):
        response = await inspection.get("/v1/rectifications", params={"updated_since": value}, headers=office)
        assert response.status_code == 200, response.text
        assert "items" in response.json()


async def test_a_public_route_ignores_an_idempotency_key_instead_of_asking_who_calls(
    settings: Settings,
) -> None:
    from monitoring.main import spec

    unknown = {"token": secrets.token_urlsafe(24)}
    async with serve(create_service_app(spec, settings)) as monitoring:
        answers: list[Any] = []
        for key in ({}, {"Idempotency-Key": "survey-1"}, {"Idempotency-Key": "survey-1"}):
            response = await monitoring.post("/v1/public/survey-form", json=unknown, headers=key)
            answers.append(
                (response.status_code, response.json()["type"], response.headers.get("idempotent-replayed"))
            )
    # The route's own answer each time (no such link; or, when the suite has used up the address's survey
    # window, its 429): never 401, and never a stored response replayed.
    assert answers[0] in {
        (404, "urn:dudao:problem:survey-link-not-found", None),
        (429, "urn:dudao:problem:too-many-requests", None),
    }
    assert answers == [answers[0]] * 3
