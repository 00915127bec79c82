"""Duty evaluation runs over days (notice, on-site work): its tests drive an app of their own whose clock
they move, leaving the suite's shared clock alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from dudao.clock import Clock
from dudao.config import Settings
from dudao.http.app import create_service_app
from tests.conftest import serve


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def real_time_afterwards(clock: Clock) -> None:
    """Every test starts at real time."""
    clock.set_offset(timedelta(0))


@pytest.fixture(scope="session")
async def gov(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    from governance.main import spec

    async with serve(create_service_app(spec, settings, clock=clock)) as client:
        yield client
