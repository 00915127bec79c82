"""Each events test module gets a schema of its own and a subject prefix of its own on the DUDAO stream."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import Column, DateTime, Integer, Table
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateSchema, DropSchema

from dudao.config import Settings
from dudao.db import schema_metadata, session_factory
from dudao.events.nats import STREAM, connect
from dudao.events.stream import declare_stream
from dudao.tables import kit_tables
from tests.kit.events.support import World


@pytest.fixture(scope="module")
async def world(settings: Settings, engine: AsyncEngine) -> AsyncIterator[World]:
    if settings.nats_url is None:
        pytest.fail("the suite's settings carry no NATS URL (DUDAO_NATS_URL)")
    token = f"tk{secrets.token_hex(4)}"
    schema = f"evt_{token}"
    metadata = schema_metadata(schema)
    kit = kit_tables(metadata)
    thing = Table(
        "thing",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("n", Integer, nullable=False, server_default="0"),
        Column("due_at", DateTime(timezone=True)),
        Column("notified_at", DateTime(timezone=True)),
    )
    async with engine.begin() as conn:
        await conn.execute(CreateSchema(schema))
        await conn.run_sync(metadata.create_all)
    nc = await connect(settings.nats_url, "tests-events")
    js = nc.jetstream()
    await declare_stream(js)  # idempotent: the suite declared it already
    world = World(
        token=token,
        kit=kit,
        thing=thing,
        engine=engine,
        sessions=session_factory(engine),
        js=js,
        base_settings=settings,
    )
    try:
        yield world
    finally:
        for durable in world.durables:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(STREAM, durable)
        await js.purge_stream(STREAM, subject=f"dudao.{token}.>")
        await nc.close()
        async with engine.begin() as conn:
            await conn.execute(DropSchema(schema, cascade=True))
