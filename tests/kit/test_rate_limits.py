"""Rate limits per address, per API key and per account, and the backoff after failed authentication."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from dudao.config import Settings
from dudao.http.app import create_service_app
from school_inspection.main import spec as inspection_spec
from tests.conftest import TokenFactory, bearer, serve

Served = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def limited(settings: Settings) -> Served:
    """School inspection with the limits given, counting from zero."""

    def start(**limits: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return serve(create_service_app(inspection_spec, settings.model_copy(update=limits)))

    return start


def _refused(response: httpx.Response) -> int:
    """The seconds a 429 asks to wait, after checking it is the one problem shape."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:dudao:problem:rate-limited"
    assert int(response.headers["retry-after"]) == body["retry_after"] >= 1
    return body["retry_after"]


async def _bad_tokens(client: httpx.AsyncClient, n: int, **headers: str) -> list[int]:
    statuses = []
    for i in range(n):
        response = await client.get(
            "/v1/schools", headers={"Authorization": f"Bearer not-a-token-{i}", **headers}
        )
        statuses.append(response.status_code)
    return statuses


async def test_failed_authentication_backs_off_even_for_a_good_token(
    limited: Served, token: TokenFactory
) -> None:
    good = bearer(token("supervision_office", division="450300"))
    async with limited(rate_limit_auth_failures="5/minute") as client:
        assert await _bad_tokens(client, 5) == [401] * 5
        assert _refused(await client.get("/v1/schools", headers={"X-API-Key": "ddk_guess"})) <= 60
        # The address waits out its backoff whatever it sends: guessing on with a good token in hand is no way
        # round it.
        _refused(await client.get("/v1/schools", headers=good))
        assert (await client.get("/healthz")).status_code == 200


async def test_the_wait_grows_with_the_failures(limited: Served) -> None:
    async with limited(rate_limit_auth_failures="3/second;5/hour") as client:
        assert await _bad_tokens(client, 3) == [401] * 3
        assert _refused(await client.get("/v1/schools", headers={"Authorization": "Bearer x"})) <= 1
        await asyncio.sleep(1.1)
        assert await _bad_tokens(client, 2) == [401] * 2
        # Five failures within the hour: the next tier keeps the address out for most of an hour.
        assert _refused(await client.get("/v1/schools", headers={"Authorization": "Bearer y"})) > 3000


async def test_each_account_has_its_own_limit(limited: Served, token: TokenFactory) -> None:
    first = bearer(token("supervision_office", division="450300"))
    second = bearer(token("supervision_office", division="450300"))
    async with limited(rate_limit_per_subject="3/minute") as client:
        statuses = [(await client.get("/v1/schools", headers=first)).status_code for _ in range(3)]
        assert statuses == [200] * 3
        _refused(await client.get("/v1/schools", headers=first))
        assert (await client.get("/v1/schools", headers=second)).status_code == 200


async def test_each_api_key_has_its_own_limit(
    limited: Served, governance: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = bearer(token("platform_admin"))
    issued = await governance.post(
        "/v1/api-keys",
        json={
            "name": "桂林质量监测",
            "org": "广西教育评估院",
            "roles": ["agency"],
            "division_code": "450300",
            "scope_services": ["school-inspection"],
            "scope_operations": ["read"],
        },
        headers=admin,
    )
    assert issued.status_code == 201, issued.text
    key = {"X-API-Key": issued.json()["key"]}
    async with limited(rate_limit_per_api_key="2/minute") as client:
        assert [(await client.get("/v1/schools", headers=key)).status_code for _ in range(2)] == [200, 200]
        _refused(await client.get("/v1/schools", headers=key))
        # A person at the same address is not held back by the key's limit.
        office = bearer(token("supervision_office", division="450300"))
        assert (await client.get("/v1/schools", headers=office)).status_code == 200


async def test_an_address_is_limited_on_every_route_but_the_probes(
    limited: Served, token: TokenFactory
) -> None:
    office = bearer(token("supervision_office", division="450300"))
    async with limited(rate_limit_per_address="4/minute") as client:
        assert [(await client.get("/v1/schools", headers=office)).status_code for _ in range(4)] == [200] * 4
        _refused(await client.get("/v1/schools", headers=office))
        _refused(await client.get("/v1/schools"))
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(probe)).status_code == 200, probe


async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(limited: Served) -> None:
    async def failures_from(client: httpx.AsyncClient, address: str) -> list[int]:
        return await _bad_tokens(client, 2, **{"X-Forwarded-For": f"{address}, 10.1.2.3"})

    # Behind the proxy (the test client is 127.0.0.1): each client its own count, the proxy's hop skipped.
    async with limited(
        rate_limit_auth_failures="2/minute", trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"]
    ) as c:
        assert await failures_from(c, "203.0.113.7") == [401, 401]
        assert await failures_from(c, "203.0.113.8") == [401, 401]
        assert (await failures_from(c, "203.0.113.7"))[0] == 429
    # Trusting no proxy, a client cannot shake off its count by writing a new address each time.
    async with limited(rate_limit_auth_failures="2/minute", trusted_proxies=[]) as client:
        assert await failures_from(client, "203.0.113.7") == [401, 401]
        assert (await failures_from(client, "203.0.113.9"))[0] == 429


async def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUDAO_SCHOOL_INSPECTION_RATE_LIMIT_PER_ADDRESS", "50/second")
    assert Settings.for_service("school-inspection").rate_limit_per_address == "50/second"
