from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.db import create_engine


@pytest.fixture(scope="session")
async def governance_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine as governance's own: the kit's models live in its schema."""
    engine = create_engine(settings, application_name="tests", pool_size=2, schema="governance")
    yield engine
    await engine.dispose()
