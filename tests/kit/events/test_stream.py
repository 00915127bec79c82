"""The stream is declared by a command; a consumer where it is missing fails clearly rather than create it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType

from dudao.dev import embedded
from dudao.events.consumer import ConsumerRunner, consumer
from dudao.events.nats import STREAM, SUBJECTS, connect
from dudao.events.stream import StreamMissingError, declare_stream
from dudao.uow import UnitOfWork
from tests.kit.events.support import Happened, World, happened_class, running


@pytest.fixture
async def bare_js(tmp_path: Path) -> AsyncIterator[JetStreamContext]:
    """JetStream on a server of its own, where nobody declared the stream yet."""
    server = embedded.start_nats(tmp_path / "nats")
    try:
        nc = await connect(server.admin_url, "tests-bare")
        try:
            yield nc.jetstream()
        finally:
            await nc.close()
    finally:
        embedded.stop_nats(tmp_path / "nats")


async def test_consumers_fail_clearly_when_the_stream_was_never_declared(
    world: World, bare_js: JetStreamContext
) -> None:
    happened = happened_class(world.subject("bare"))

    @consumer(happened.event_type, durable=world.durable("bare"))
    async def ignore(event: Happened, uow: UnitOfWork) -> None:
        return None

    runner = ConsumerRunner(
        world.sessions, world.kit, bare_js, [ignore], "dudao/testkit", world.clock, world.settings()
    )
    with pytest.raises(StreamMissingError, match="dudao events declare-stream"):
        async with running(runner):
            pass
    assert await bare_js.streams_info() == [], "the consumer created no stream"

    first = await declare_stream(bare_js)
    again = await declare_stream(bare_js, max_age=3600.0)
    assert first.config.name == again.config.name == STREAM
    assert again.config.subjects == SUBJECTS
    assert again.config.storage == StorageType.FILE
    assert again.config.duplicate_window == 120.0
    assert again.config.max_age == 3600.0
