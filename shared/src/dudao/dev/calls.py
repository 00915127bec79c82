"""What the demo's acts and the end-to-end tests share to drive a running suite over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import httpx

Headers = dict[str, str]
TokenFactory = Callable[..., str]


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {within} s")
        await asyncio.sleep(interval)


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: "
            f"{response.text}"
        )


async def advance_clock(
    client: httpx.AsyncClient, urls: Mapping[str, str], admin: Headers, days: int
) -> date:
    """Move every process's clock forward and wait until all of them see it."""
    moved = await client.post(urls["governance"] + "/v1/clock/advance", headers=admin, json={"days": days})
    ok(moved, 200)
    target = date.fromisoformat(moved.json()["business_date"])

    async def everyone_moved() -> bool:
        for url in urls.values():
            seen = await client.get(url + "/v1/clock", headers=admin)
            if date.fromisoformat(seen.json()["business_date"]) < target:
                return False
        return True

    await eventually(everyone_moved, within=10)
    return target
