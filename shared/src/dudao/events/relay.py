"""The outbox relay: publishes committed outbox rows to JetStream, in order, and marks them published.

Rows are claimed ``FOR UPDATE SKIP LOCKED`` in one transaction that publishes them and marks them, so
any number of relays can share one outbox, and a relay that crashed after commit (or mid-batch) leaves
the rows unpublished for the next one. A message published just before such a crash is published again
with the same ``Nats-Msg-Id``, which the stream drops within its duplicate window (and the consumers'
inbox beyond it). The relay sleeps on ``LISTEN``; a poll every ``outbox_poll_seconds`` covers a lost
notification or a lost listening connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.events.nats import STREAM
from dudao.ids import uuid7
from dudao.tables import KitTables

REPLAY_HEADER = "Dudao-Replay"
_REPLAY_PAGE = 500
_LIVENESS_TIMEOUT_SECONDS = 5.0

log = structlog.get_logger(__name__)


async def publish_envelope(
    js: JetStreamContext,
    subject: str,
    envelope: dict[str, Any],
    *,
    msg_id: str,
    headers: dict[str, str] | None = None,
) -> PubAck:
    """Publish one CloudEvent (the JSON envelope is the body) and wait for the stream's ack."""
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    all_headers = {
        Header.MSG_ID.value: msg_id,
        "Ce-Id": str(envelope["id"]),
        "Ce-Type": str(envelope["type"]),
        "Ce-Source": str(envelope["source"]),
        # Consumers keep the events of one subject (one rectification, one case) in order.
        "Ce-Subject": str(envelope.get("subject") or envelope["id"]),
        **(headers or {}),
    }
    # ``stream`` makes the server refuse a subject that some other stream captures.
    return await js.publish(subject, body, headers=all_headers, stream=STREAM)


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, kit: KitTables, js: JetStreamContext, settings: Settings) -> None:
        self._engine = engine
        self._kit = kit
        self._js = js
        self._batch_size = settings.outbox_batch_size
        self._poll_seconds = settings.outbox_poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; wake on NOTIFY, poll as a fallback."""
        wake = asyncio.Event()
        stop_waker = asyncio.create_task(self._wake_on(stop, wake))
        try:
            while not stop.is_set():
                listener = await self._listen(wake)
                try:
                    await self._pump(stop, wake, listener)
                finally:
                    if listener is not None:
                        with contextlib.suppress(Exception):  # a broken connection is aborted by close()
                            await listener.close(timeout=_LIVENESS_TIMEOUT_SECONDS)
        finally:
            stop_waker.cancel()

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished rows not claimed by another relay; return how many were published.

        A failed publish is recorded on its row and ends the batch, so no later row overtakes it.
        """
        outbox = self._kit.outbox
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.envelope)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            published: list[int] = []
            for row in rows:
                try:
                    ack = await publish_envelope(self._js, row.type, row.envelope, msg_id=str(row.event_id))
                except Exception as exc:  # NATS away, stream missing, timeout: the row waits for the next try
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "outbox publish failed",
                        outbox=self._kit.schema,
                        seq=row.seq,
                        event_id=str(row.event_id),
                        error=error,
                    )
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.seq == row.seq)
                        .values(attempts=outbox.c.attempts + 1, last_error=error)
                    )
                    break
                if ack.duplicate:
                    log.info(
                        "outbox row was already on the stream",
                        outbox=self._kit.schema,
                        seq=row.seq,
                        event_id=str(row.event_id),
                    )
                published.append(row.seq)
            if published:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_(published))
                    .values(published_at=func.now(), attempts=outbox.c.attempts + 1, last_error=None)
                )
        return len(published)

    async def _pump(
        self, stop: asyncio.Event, wake: asyncio.Event, listener: asyncpg.Connection | None
    ) -> None:
        """Drain, then sleep until notified; return when the listening connection needs (re)connecting."""
        while not stop.is_set():
            wake.clear()
            await self._drain(stop)
            try:
                await asyncio.wait_for(wake.wait(), self._poll_seconds)
            except TimeoutError:
                if listener is None or not await self._alive(listener):
                    return
            else:
                if listener is not None and listener.is_closed():
                    return

    async def _drain(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                published = await self.publish_batch()
            except Exception:  # the database is away: the next wake or poll tries again
                log.exception("outbox batch failed", outbox=self._kit.schema)
                return
            if published < self._batch_size:
                return

    async def _listen(self, wake: asyncio.Event) -> asyncpg.Connection | None:
        """A dedicated connection LISTENing on the outbox channel, or None while it cannot be had."""
        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = await asyncpg.connect(
                dsn, timeout=10, server_settings={"application_name": f"dudao-relay-{self._kit.schema}"}
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("outbox listener cannot connect; polling", outbox=self._kit.schema, error=repr(exc))
            return None
        try:
            await conn.add_listener(self._kit.notify_channel, lambda *_: wake.set())
        except BaseException:
            await conn.close()
            raise
        # A dropped connection wakes the pump, which then reconnects.
        conn.add_termination_listener(lambda _: wake.set())
        return conn

    async def _alive(self, listener: asyncpg.Connection) -> bool:
        try:
            await listener.fetchval("SELECT 1", timeout=_LIVENESS_TIMEOUT_SECONDS)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("outbox listener lost", outbox=self._kit.schema, error=repr(exc))
            return False
        return True

    @staticmethod
    async def _wake_on(stop: asyncio.Event, wake: asyncio.Event) -> None:
        await stop.wait()
        wake.set()


async def replay(
    engine: AsyncEngine,
    kit: KitTables,
    js: JetStreamContext,
    *,
    since_seq: int | None = None,
    since_time: datetime | None = None,
    types: Sequence[str] | None = None,
) -> int:
    """Publish already-published outbox rows again (from ``since_seq`` / ``since_time`` on, inclusive).

    Each replayed message gets a fresh ``Nats-Msg-Id`` so the stream's duplicate window lets it through,
    and a ``Dudao-Replay`` header naming the replay; consumers that already applied an event skip it
    through their inbox.
    """
    outbox = kit.outbox
    replay_id = str(uuid7())
    conditions: list[ColumnElement[bool]] = [outbox.c.published_at.is_not(None)]
    if since_seq is not None:
        conditions.append(outbox.c.seq >= since_seq)
    if since_time is not None:
        conditions.append(outbox.c.created_at >= since_time)
    if types is not None:
        conditions.append(outbox.c.type.in_(list(types)))
    count = 0
    last_seq = 0
    while True:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.envelope)
                    .where(*conditions, outbox.c.seq > last_seq)
                    .order_by(outbox.c.seq)
                    .limit(_REPLAY_PAGE)
                )
            ).all()
        if not rows:
            log.info("outbox replayed", outbox=kit.schema, replay=replay_id, count=count)
            return count
        for row in rows:
            await publish_envelope(
                js,
                row.type,
                row.envelope,
                msg_id=f"{row.event_id}:replay:{replay_id}",
                headers={REPLAY_HEADER: replay_id},
            )
            count += 1
        last_seq = rows[-1].seq
