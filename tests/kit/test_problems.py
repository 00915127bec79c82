"""Every error is application/problem+json, and an unexpected one never shows its stack trace."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from dudao.errors import Conflict, install_problem_handlers
from dudao.http.middleware import RequestContextMiddleware


class ZoneFull(Conflict):
    type = "zone-full"
    title = "The inspection zone already holds 20 schools"


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="test", max_body_bytes=1000, max_query_bytes=2000)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret connection string postgresql://u:p@db")

    @app.get("/full")
    async def full() -> None:
        raise ZoneFull("Zone 3 of 兴宁区 is full", zone="3")

    return app


async def test_an_unexpected_error_is_a_problem_without_a_stack_trace() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:dudao:problem:internal-error"
    assert body["request_id"] == "r-500"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_a_domain_error_carries_its_type_title_detail_and_extensions() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        response = await client.get("/full")
    assert response.status_code == 409
    assert response.json() == {
        "type": "urn:dudao:problem:zone-full",
        "title": "The inspection zone already holds 20 schools",
        "status": 409,
        "detail": "Zone 3 of 兴宁区 is full",
        "instance": "/full",
        "request_id": response.headers["x-request-id"],
        "zone": "3",
    }
