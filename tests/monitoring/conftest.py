from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dudao.config import Settings
from dudao.http.app import create_service_app
from tests.conftest import serve


@pytest.fixture(scope="session")
async def monitoring(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from monitoring.main import spec

    async with serve(create_service_app(spec, settings)) as client:
        yield client
