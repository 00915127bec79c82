"""A throwaway schema with the kit's tables, test events on subjects of their own, and stream probes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import FetchTimeoutError
from sqlalchemy import URL, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dudao.clock import Clock
from dudao.config import Settings
from dudao.events.catalog import Event
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM
from dudao.ids import derived_id
from dudao.tables import KitTables
from dudao.uow import UnitOfWork

DIVISION = "450102"


class Happened(Event):
    """Base of the per-test event classes: something happened to a thing."""

    thing_id: UUID


class ThingDue(Event):
    """Base of the per-test timed facts: the id is derived from the thing and its deadline."""

    thing_id: UUID
    due_at: datetime

    def event_id(self) -> UUID:
        return derived_id(self.event_type, self.thing_id, self.due_at.isoformat())


class Counted(Event):
    """Base of the per-test events that number the changes of one thing: the ``n``-th change of it."""

    thing_id: UUID
    n: int

    def subject(self) -> str:
        return str(self.thing_id)


def counted_class(type_name: str) -> type[Counted]:
    class TestCounted(Counted):
        event_type: ClassVar[str] = type_name

    return TestCounted


def happened_class(type_name: str) -> type[Happened]:
    class TestHappened(Happened):
        event_type: ClassVar[str] = type_name

    return TestHappened


def due_class(type_name: str) -> type[ThingDue]:
    class TestThingDue(ThingDue):
        event_type: ClassVar[str] = type_name

    return TestThingDue


class Runnable(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass
class World:
    token: str
    kit: KitTables
    thing: Table
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    js: JetStreamContext
    base_settings: Settings
    clock: Clock = field(default_factory=Clock)
    durables: list[str] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        return self.base_settings.model_copy(update=overrides)

    def subject(self, aggregate: str, event: str = "happened") -> str:
        """A subject no other test (nor another run on the same server) publishes to."""
        return f"dudao.{self.token}.{aggregate}.{event}.v1"

    def durable(self, name: str) -> str:
        durable = f"{self.token}-{name}"
        self.durables.append(durable)
        return durable

    @property
    def source(self) -> str:
        """The source of the test's events: the service its subjects name, as consumers check."""
        return f"/dudao/{self.token}"

    def uow(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(session, self.kit, self.source, self.clock)

    async def commit_events(self, *events: Event) -> list[CloudEvent]:
        async with self.sessions() as session:
            uow = self.uow(session)
            envelopes = [uow.emit(event) for event in events]
            await uow.commit()
        return envelopes

    async def outbox_rows(self, event_type: str) -> list[dict[str, Any]]:
        outbox = self.kit.outbox
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.seq)
            )
            return [dict(r) for r in rows.mappings()]

    async def count(self, table: Table, *where: Any) -> int:
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
            )


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> float:
    """Wait until ``check`` holds; return the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} did not hold within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def header(message: Msg, name: str) -> str:
    assert message.headers is not None, "a message without headers"
    return message.headers[name]


async def subject_count(js: JetStreamContext, subject: str) -> int:
    info = await js.stream_info(STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def read_subject(js: JetStreamContext, subject: str) -> list[Msg]:
    """Every message on ``subject``, through a throwaway consumer."""
    expected = await subject_count(js, subject)
    sub = await js.pull_subscribe(
        subject, stream=STREAM, config=ConsumerConfig(ack_policy=AckPolicy.NONE, inactive_threshold=30.0)
    )
    name = (await sub.consumer_info()).name
    messages: list[Msg] = []
    try:
        while len(messages) < expected:
            try:
                messages.extend(await sub.fetch(expected - len(messages), timeout=2.0))
            except (TimeoutError, FetchTimeoutError):
                break
    finally:
        await sub.unsubscribe()
        await js.delete_consumer(STREAM, name)
    return messages


@dataclass
class Proxy:
    """A TCP proxy that can stop forwarding without closing anything, like a peer that hangs."""

    port: int
    flowing: asyncio.Event

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def url(self, upstream: URL) -> str:
        """``upstream`` (a database URL) reached through the proxy, as a plain ``postgresql://`` DSN."""
        return upstream.set(drivername="postgresql", host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False
        )


@asynccontextmanager
async def tcp_proxy(host: str, port: int) -> AsyncIterator[Proxy]:
    """Forward connections to ``host:port`` until frozen; closing it closes every connection."""
    flowing = asyncio.Event()
    flowing.set()
    handlers: set[asyncio.Task[Any]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                await flowing.wait()  # frozen: neither the data nor an end of stream goes through
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield Proxy(port=server.sockets[0].getsockname()[1], flowing=flowing)
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def running(component: Runnable) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``component`` in the background; stop it on exit and surface any error it raised."""
    stop = asyncio.Event()
    task = asyncio.create_task(component.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 15.0)
