"""The connection to NATS: one stream, ``DUDAO``, on every subject under ``dudao.>``."""

from __future__ import annotations

import asyncio

import structlog
from nats.aio.client import Client

STREAM = "DUDAO"
SUBJECTS = ["dudao.>"]

log = structlog.get_logger(__name__)


async def connect(url: str, name: str, *, first_connect_seconds: float = 15.0) -> Client:
    """Connect and keep reconnecting for ever once connected.

    nats-py retries the first connection for ever too when reconnects are unbounded, so the first
    connection gets a deadline instead: a wrong URL fails clearly rather than hanging.
    """

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", connection=name, error=repr(exc))

    async def on_disconnect() -> None:
        if not client.is_closed:  # a close() we asked for is no news
            log.warning("nats disconnected", connection=name)

    async def on_reconnect() -> None:
        log.info("nats reconnected", connection=name)

    client = Client()
    try:
        await asyncio.wait_for(
            client.connect(
                url,
                name=name,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=2,
                connect_timeout=5,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            ),
            first_connect_seconds,
        )
    except TimeoutError:
        await client.close()
        raise ConnectionError(f"NATS at {url} did not answer within {first_connect_seconds:g} s") from None
    return client
