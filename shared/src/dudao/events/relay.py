"""The outbox relay: publishes committed outbox rows to JetStream, in order, and marks them published.

One relay at a time publishes an outbox: the one whose dedicated connection holds a session-level
advisory lock on the outbox's key. The others stand by on their own connections and try the lock every
poll interval, so when the holder dies (its connection closes, PostgreSQL releases the lock) another
takes over within one interval. With one publisher, the order on the stream is the outbox's order, so
the events of one record (whose writers are serialised) reach the stream in commit order.

A batch is read in one short statement (which also checks that the lock is still held), published
pipelined (all sent, then the acks gathered) with no transaction open, and marked in another short
transaction up to its first failure; that row records the error, and the rows sent after it are sent
again next time with the same ``Nats-Msg-Id``, which the stream drops within its duplicate window (and
the consumers' inbox beyond it). The same holds for a relay that crashed before it could mark a batch.
Pipelining's price: when one publish of a batch fails but later ones of it were stored (a lost ack, a
subject no stream takes), those stay ahead of the failed row on the stream. A published row stays for
``replay`` for ``outbox_retention_days``; then the worker prunes it (dudao.retention).

The relay sleeps on ``LISTEN`` on the same dedicated connection and drains every ``outbox_poll_seconds``
in any case: liveness checks and reconnects of that connection run beside the draining, never in front
of it, and while a hung connection's backend still holds the lock the relay keeps publishing under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck
from sqlalchemy import ColumnElement, TextClause, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.config import Settings
from dudao.events.catalog import stream_subject
from dudao.events.nats import STREAM
from dudao.ids import uuid7
from dudao.tables import KitTables

REPLAY_HEADER = "Dudao-Replay"
_REPLAY_PAGE = 500
_LIVENESS_TIMEOUT_SECONDS = 5.0
_CONNECT_TIMEOUT_SECONDS = 10.0
# nats-py's own default for a JetStream request; publish_async's futures have no timeout of their own.
_ACK_TIMEOUT_SECONDS = 5.0
_CLOSE_TIMEOUT_SECONDS = 2.0

_THIS_DATABASE = "database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)

log = structlog.get_logger(__name__)

_Message = tuple[str, dict[str, Any], str, dict[str, str] | None]  # subject, envelope, msg id, headers


def envelope_headers(
    envelope: dict[str, Any], msg_id: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """The headers of the message that carries ``envelope``; a KeyError if it is no envelope."""
    return {
        Header.MSG_ID.value: msg_id,
        "Ce-Id": str(envelope["id"]),
        "Ce-Type": str(envelope["type"]),
        "Ce-Source": str(envelope["source"]),
        # Consumers keep the events of one subject (one rectification, one case) in order.
        "Ce-Subject": str(envelope.get("subject") or envelope["id"]),
        **(headers or {}),
    }


def _body_and_headers(
    envelope: dict[str, Any], msg_id: str, headers: dict[str, str] | None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return body, envelope_headers(envelope, msg_id, headers)


async def publish_envelope(
    js: JetStreamContext,
    subject: str,
    envelope: dict[str, Any],
    *,
    msg_id: str,
    headers: dict[str, str] | None = None,
) -> PubAck:
    """Publish one CloudEvent (the JSON envelope is the body) and wait for the stream's ack."""
    body, all_headers = _body_and_headers(envelope, msg_id, headers)
    # ``stream`` makes the server refuse a subject that some other stream captures.
    return await js.publish(subject, body, headers=all_headers, stream=STREAM)


async def _publish_pipelined(js: JetStreamContext, messages: Sequence[_Message]) -> list[PubAck | Exception]:
    """Send all of ``messages`` in order without waiting, then gather their acks.

    The outcomes are in the order of ``messages``; a message that could not even be sent ends the list
    (nothing after it was sent), and an ack that does not come in time is a ``TimeoutError``.
    """
    futures: list[asyncio.Future[PubAck]] = []
    unsent: Exception | None = None
    for subject, envelope, msg_id, headers in messages:
        body, all_headers = _body_and_headers(envelope, msg_id, headers)
        try:
            futures.append(
                await js.publish_async(
                    subject, body, headers=all_headers, stream=STREAM, wait_stall=_ACK_TIMEOUT_SECONDS
                )
            )
        except Exception as exc:  # closed connection, too large, too many pending: stop here, in order
            unsent = exc
            break
    if futures:
        await asyncio.wait(futures, timeout=_ACK_TIMEOUT_SECONDS)
    outcomes: list[PubAck | Exception] = []
    for future in futures:
        if not future.done():
            future.cancel()  # releases its slot in nats-py's pending window
        if future.cancelled():
            outcomes.append(TimeoutError(f"no ack from the stream within {_ACK_TIMEOUT_SECONDS:g} s"))
        elif (error := future.exception()) is not None:
            outcomes.append(error if isinstance(error, Exception) else RuntimeError(repr(error)))
        else:
            outcomes.append(future.result())
    if unsent is not None:
        outcomes.append(unsent)
    return outcomes


@dataclass(frozen=True)
class _LockSql:
    """The statements about one outbox's advisory lock."""

    take: str  # try to take it; answers the pid of the backend that holds it then (NULL: nobody)
    retire: str  # end backend $1 if (and only if) it still holds the lock; waits up to a second
    held_by: TextClause  # the lock is held by backend :holder
    end: TextClause  # end backend :pid if it holds the lock


def _lock_sql(schema: str) -> _LockSql:
    digest = hashlib.sha256(f"dudao.relay.{schema}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    # pg_locks shows a bigint advisory key as two oids. Every value spliced in is ours, never input.
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    held = f"locktype = 'advisory' AND granted AND classid::bigint = {high} AND objid::bigint = {low}"
    locks = f"FROM pg_catalog.pg_locks WHERE {held} AND objsubid = 1 AND {_THIS_DATABASE}"
    return _LockSql(
        take=f"SELECT CASE WHEN pg_try_advisory_lock({key}) THEN pg_backend_pid()"
        f" ELSE (SELECT pid {locks} LIMIT 1) END",
        retire=f"SELECT pg_terminate_backend(pid, 1000) {locks} AND pid = $1",
        held_by=text(f"EXISTS (SELECT 1 {locks} AND pid = :holder)"),
        end=text(f"SELECT pg_terminate_backend(pid) {locks} AND pid = :pid"),
    )


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        kit: KitTables,
        js: JetStreamContext,
        settings: Settings,
        *,
        listener_dsn: str | None = None,
    ) -> None:
        """``listener_dsn`` is where the dedicated (LISTEN and lock) connection goes; by default the
        engine's database."""
        self._engine = engine
        self._kit = kit
        self._js = js
        self._batch_size = settings.outbox_batch_size
        self._poll_seconds = settings.outbox_poll_seconds
        self._dsn = listener_dsn or engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._lock = _lock_sql(kit.schema)
        # The backend (ours, on the dedicated connection or a hung one before it) whose lock this
        # relay publishes under; None while another relay publishes or none can be had.
        self._holder: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Publish while this relay holds the outbox's lock, stand by otherwise, until ``stop`` is set."""
        wake = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            keeper = tasks.create_task(self._keep_lock(wake))
            pump = tasks.create_task(self._pump(stop, wake))
            await stop.wait()
            wake.set()
            await pump
            # Only now, with the last batch marked, is the lock released (even mid-connect).
            keeper.cancel()

    async def publish_batch(self) -> int:
        """Outside ``run``: publish one batch of the oldest unpublished rows and return how many were
        published; 0 if another relay is publishing this outbox."""
        conn = await self._connect()
        try:
            pid = await conn.fetchval(self._lock.take, timeout=_LIVENESS_TIMEOUT_SECONDS)
            if pid != conn.get_server_pid():
                return 0
            return await self._publish(pid)
        finally:
            await conn.close(timeout=_CLOSE_TIMEOUT_SECONDS)  # and with it the lock

    async def _publish(self, holder: int) -> int:
        """Publish one batch while ``holder``'s backend holds the lock; return how many were published.

        A failed publish is recorded on its row and ends the batch, so no later row is marked before it.
        """
        outbox = self._kit.outbox
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.seq, outbox.c.event_id, outbox.c.type, outbox.c.envelope)
                    .where(
                        outbox.c.published_at.is_(None),
                        self._lock.held_by.bindparams(holder=holder),
                    )
                    .order_by(outbox.c.seq)
                    .limit(self._batch_size)
                )
            ).all()
        if not rows:
            return 0
        outcomes = await _publish_pipelined(
            self._js,
            [(stream_subject(r.type, r.envelope["data"]), r.envelope, str(r.event_id), None) for r in rows],
        )
        published: list[int] = []
        failure: Exception | None = None
        for row, outcome in zip(rows, outcomes, strict=False):
            if isinstance(outcome, Exception):
                failure = outcome
                break
            if outcome.duplicate:
                log.info(
                    "outbox row was already on the stream",
                    outbox=self._kit.schema,
                    seq=row.seq,
                    event_id=str(row.event_id),
                )
            published.append(row.seq)
        async with self._engine.begin() as conn:
            if published:
                await conn.execute(
                    update(outbox)
                    # A relay that lost the lock mid-batch may mark after its successor: once is enough.
                    .where(outbox.c.seq.in_(published), outbox.c.published_at.is_(None))
                    .values(published_at=func.now(), attempts=outbox.c.attempts + 1, last_error=None)
                )
            if failure is not None:
                row = rows[len(published)]
                error = f"{type(failure).__name__}: {failure}"
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
        return len(published)

    async def _pump(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Drain on every wake and every poll interval while this relay holds the lock."""
        while not stop.is_set():
            wake.clear()
            if self._holder is not None:
                await self._drain(stop, self._holder)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._poll_seconds)

    async def _drain(self, stop: asyncio.Event, holder: int) -> None:
        while not stop.is_set():
            try:
                published = await self._publish(holder)
            except Exception:  # the database is away: the next wake or poll tries again
                log.exception("outbox batch failed", outbox=self._kit.schema)
                return
            if published < self._batch_size:
                return

    async def _keep_lock(self, wake: asyncio.Event) -> None:
        """Keep the dedicated connection: (re)connect, LISTEN, take or keep the lock, check liveness."""
        kick = asyncio.Event()  # the connection dropped: replace it now, not at the next poll
        conn: asyncpg.Connection | None = None
        try:
            while True:
                kick.clear()
                if conn is not None and conn.is_closed():
                    conn = None
                if conn is None:
                    conn = await self._listen(wake, kick)
                if conn is not None and not await self._hold(conn, wake):
                    conn.terminate()  # hung or broken; its backend may go on holding the lock for a while
                    conn = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(kick.wait(), self._poll_seconds)
        finally:
            await self._release(conn)

    async def _hold(self, conn: asyncpg.Connection, wake: asyncio.Event) -> bool:
        """Take the lock or check that the connection still answers; False if it does not."""
        pid = conn.get_server_pid()
        try:
            if self._holder == pid:
                await conn.fetchval("SELECT 1", timeout=_LIVENESS_TIMEOUT_SECONDS)
                return True
            holder = await conn.fetchval(self._lock.take, timeout=_LIVENESS_TIMEOUT_SECONDS)
            if holder is not None and holder == self._holder:
                # Our previous connection's backend still holds it: end it so that this one can take over,
                # and publish under it meanwhile.
                await conn.fetch(self._lock.retire, holder, timeout=_LIVENESS_TIMEOUT_SECONDS)
                holder = await conn.fetchval(self._lock.take, timeout=_LIVENESS_TIMEOUT_SECONDS)
        except asyncpg.InsufficientPrivilegeError as exc:
            log.warning("cannot end the relay's previous backend", outbox=self._kit.schema, error=repr(exc))
            return True
        except _DB_ERRORS as exc:
            log.warning("outbox listener lost", outbox=self._kit.schema, error=repr(exc))
            return False
        if holder == pid:
            self._holder = pid
            log.info("outbox relay publishes", outbox=self._kit.schema, backend=pid)
            wake.set()
        elif holder != self._holder:
            if self._holder is not None:
                log.info("outbox relay stands by", outbox=self._kit.schema, holder=holder)
            self._holder = None
        return True

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            timeout=_CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": f"dudao-relay-{self._kit.schema}"},
        )

    async def _listen(self, wake: asyncio.Event, kick: asyncio.Event) -> asyncpg.Connection | None:
        """A dedicated connection LISTENing on the outbox channel, or None while it cannot be had."""
        try:
            conn = await self._connect()
        except _DB_ERRORS as exc:
            log.warning("outbox listener cannot connect", outbox=self._kit.schema, error=repr(exc))
            return None
        try:
            await conn.add_listener(self._kit.notify_channel, lambda *_: wake.set())
        except _DB_ERRORS as exc:
            conn.terminate()
            log.warning("outbox listener cannot listen", outbox=self._kit.schema, error=repr(exc))
            return None
        # A dropped connection is replaced at once, not at the next poll.
        conn.add_termination_listener(lambda _: kick.set())
        return conn

    async def _release(self, conn: asyncpg.Connection | None) -> None:
        """Free the lock for the other relays at once: close the dedicated connection, and end the
        backends of ours that hold the lock but no longer answer (a hung connection's, a hung close's)."""
        holder, self._holder = self._holder, None
        if conn is not None:
            try:
                await conn.close(timeout=_CLOSE_TIMEOUT_SECONDS)
            except Exception:  # close() has aborted the connection; its backend may live on
                holder = conn.get_server_pid()
            else:
                if holder == conn.get_server_pid():
                    return
        if holder is not None:
            with contextlib.suppress(Exception):  # a database that is away frees the lock by itself
                async with self._engine.connect() as pool_conn:
                    await pool_conn.execute(self._lock.end.bindparams(pid=holder))


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
    through their inbox. A page is published pipelined; the first failure ends the replay with its error.
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
        outcomes = await _publish_pipelined(
            js,
            [
                (
                    stream_subject(r.type, r.envelope["data"]),
                    r.envelope,
                    f"{r.event_id}:replay:{replay_id}",
                    {REPLAY_HEADER: replay_id},
                )
                for r in rows
            ],
        )
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
            count += 1
        last_seq = rows[-1].seq
