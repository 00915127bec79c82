"""The connection to NATS: one stream, ``DUDAO``, on every subject under ``dudao.>``."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import structlog
from nats.aio.client import Client

from dudao.config import Settings

STREAM = "DUDAO"
SUBJECTS = ["dudao.>"]

_REFUSED = "authorization violation"  # how the server refuses a client's credentials

log = structlog.get_logger(__name__)


class Credentials(TypedDict, total=False):
    user: str
    password: str


def credentials(settings: Settings) -> Credentials:
    """The ``user`` and ``password`` to connect with, if the settings name a user (else none: a server
    without authentication, or credentials in the URL)."""
    if settings.nats_user is None:
        return Credentials()
    if settings.nats_password is None:
        raise ValueError("DUDAO_NATS_USER is set without DUDAO_NATS_PASSWORD")
    return Credentials(user=settings.nats_user, password=settings.nats_password.get_secret_value())


async def connect(
    url: str,
    name: str,
    *,
    user: str | None = None,
    password: str | None = None,
    first_connect_seconds: float = 15.0,
) -> Client:
    """Connect (as ``user``, see ``credentials``) and keep reconnecting for ever once connected.

    nats-py retries the first connection for ever too when reconnects are unbounded, so the first
    connection gets a deadline instead: a wrong URL fails clearly rather than hanging, and a refused
    user or password (which no retry mends) fails at once, with ``PermissionError``.
    """
    refused: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", connection=name, error=repr(exc))
        if not connecting.done() and not refused.done() and _REFUSED in str(exc).lower():
            refused.set_result(exc)

    async def on_disconnect() -> None:
        if not client.is_closed:  # a close() we asked for is no news
            log.warning("nats disconnected", connection=name)

    async def on_reconnect() -> None:
        log.info("nats reconnected", connection=name)

    client = Client()
    connecting = asyncio.ensure_future(
        client.connect(
            url,
            name=name,
            user=user,
            password=password,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=2,
            connect_timeout=5,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
        )
    )
    either: set[asyncio.Future[Any]] = {connecting, refused}
    await asyncio.wait(either, timeout=first_connect_seconds, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        await asyncio.wait({connecting})
        await client.close()
        if refused.done():
            who = f"user {user}" if user else "a client without credentials"
            raise PermissionError(f"NATS at {url} refused {who}: {refused.result()}")
        raise ConnectionError(f"NATS at {url} did not answer within {first_connect_seconds:g} s")
    connecting.result()  # a failure to connect at all is raised as it is
    return client
