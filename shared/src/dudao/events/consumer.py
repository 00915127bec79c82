"""Durable pull consumers: one per handler, explicit acks, finite redelivery with backoff, dead letters.

A handler's effect and the event's id in the inbox commit in one transaction, and the inbox row is
written first: a redelivered event (an ack lost, a replay, two replicas racing) finds it and changes
nothing. A handler that keeps failing is retried after ``consumer_backoff_seconds`` (a ``nak`` with that
delay) until ``consumer_max_deliver`` deliveries, then dead-lettered; an envelope that cannot be read is
dead-lettered at once.

The consumer's ``ack_wait`` is ``consumer_ack_wait_seconds`` and the server-side ``backoff`` is left
unset on purpose: NATS makes ``ack_wait`` the first backoff value, so a handler slower than one second
would be redelivered while still running. The server redelivers on its own only when a worker died
holding the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast
from uuid import UUID

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.contextvars import bound_contextvars

from dudao.clock import Clock
from dudao.config import Settings
from dudao.events.catalog import Event, event_class
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM
from dudao.events.stream import require_stream
from dudao.tables import KitTables
from dudao.uow import SYSTEM, Actor, UnitOfWork

E = TypeVar("E", bound=Event)

Handler = Callable[[Event, UnitOfWork], Awaitable[None]]

_FETCH_BATCH = 32
_FETCH_WAIT_SECONDS = 5.0
_ALREADY_WAITING_SECONDS = 0.005
_RETRY_PAUSE_SECONDS = 1.0
_INVALID_NAME_CHARS = frozenset(".*> \t\r\n")

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Consumer:
    event_type: str
    durable: str
    handler: Handler


def consumer(
    event_type: str, *, durable: str
) -> Callable[[Callable[[E, UnitOfWork], Awaitable[None]]], Consumer]:
    """Declare an event handler as a durable consumer of ``event_type`` (which must be in the catalog)."""
    event_class(event_type)  # an unknown type fails at import, not at the first message
    if not durable or _INVALID_NAME_CHARS & set(durable):
        raise ValueError(f"durable name {durable!r} must be non-empty without '.', '*', '>' or whitespace")

    def register(handler: Callable[[E, UnitOfWork], Awaitable[None]]) -> Consumer:
        # The runner passes exactly an instance of event_class(event_type), the handler's own type.
        return Consumer(event_type=event_type, durable=durable, handler=cast(Handler, handler))

    return register


class _UnreadableError(Exception):
    """The message is not a CloudEvent of the consumer's type: no retry can help."""


class ConsumerRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        kit: KitTables,
        js: JetStreamContext,
        consumers: Sequence[Consumer],
        source: str,
        clock: Clock,
        settings: Settings,
    ) -> None:
        durables = [c.durable for c in consumers]
        if len(set(durables)) != len(durables):
            raise ValueError(f"durable names must be unique: {durables}")
        if settings.consumer_max_deliver < 1:
            raise ValueError("consumer_max_deliver must be at least 1")
        self._sessions = sessions
        self._kit = kit
        self._js = js
        self._consumers = list(consumers)
        self._source = source
        self._clock = clock
        self._max_deliver = settings.consumer_max_deliver
        self._backoff = list(settings.consumer_backoff_seconds)
        self._ack_wait = settings.consumer_ack_wait_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set. Fails at once if the stream is not declared."""
        await require_stream(self._js)
        subscriptions = [await self._subscribe(c) for c in self._consumers]
        try:
            async with asyncio.TaskGroup() as tasks:
                for c, subscription in zip(self._consumers, subscriptions, strict=True):
                    tasks.create_task(self._consume(c, subscription, stop))
        finally:
            for subscription in subscriptions:
                try:
                    await subscription.unsubscribe()
                except Exception as exc:  # the connection may already be closed or draining
                    log.debug("unsubscribe failed", error=repr(exc))

    async def _subscribe(self, c: Consumer) -> JetStreamContext.PullSubscription:
        # Creating a durable that exists updates it, so changed settings reach the server on restart.
        await self._js.add_consumer(
            STREAM,
            ConsumerConfig(
                name=c.durable,
                durable_name=c.durable,
                filter_subject=c.event_type,
                # A consumer created after its first events were published still gets them.
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait,
                max_deliver=self._max_deliver,
            ),
        )
        return await self._js.pull_subscribe_bind(durable=c.durable, stream=STREAM)

    async def _consume(
        self, c: Consumer, subscription: JetStreamContext.PullSubscription, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            try:
                messages = await self._fetch(subscription, stop)
            except Exception:  # a reconnect or a leader change: pause, then pull again
                log.exception("fetch failed", consumer=c.durable)
                await _sleep_unless_stopped(stop, _RETRY_PAUSE_SECONDS)
                continue
            # One batch is handled concurrently, but the events of one subject (one rectification, one
            # case) in the order they were published, so a case never sees "closed" before "overdue".
            by_subject: dict[str, list[Msg]] = defaultdict(list)
            for msg in messages:
                by_subject[(msg.headers or {}).get("Ce-Subject", "")].append(msg)
            await asyncio.gather(*(self._handle_in_order(c, group) for group in by_subject.values()))

    async def _handle_in_order(self, c: Consumer, messages: list[Msg]) -> None:
        for msg in messages:
            try:
                await self._handle(c, msg)
            except Exception:  # acking failed (NATS away): the server redelivers after ack_wait
                log.exception("message handling failed", consumer=c.durable)

    @staticmethod
    async def _fetch(subscription: JetStreamContext.PullSubscription, stop: asyncio.Event) -> list[Msg]:
        """Long-poll for messages, giving up as soon as ``stop`` is set.

        Messages a cancelled pull would still have received are redelivered after ``ack_wait``.
        """
        # Long-poll for ONE message: nats-py's fetch of a batch, once its first message arrives, waits for
        # the rest of the batch until the timeout, which would hold every event back by seconds.
        fetch = asyncio.ensure_future(subscription.fetch(1, timeout=_FETCH_WAIT_SECONDS))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
                await asyncio.wait({fetch})
        if fetch.cancelled():
            return []
        try:
            first = fetch.result()
        except TimeoutError:  # nothing to do for now (nats-py raises its own subclass, or the builtin)
            return []
        try:  # then whatever is already waiting, without lingering
            return first + await subscription.fetch(_FETCH_BATCH - 1, timeout=_ALREADY_WAITING_SECONDS)
        except TimeoutError:
            return first

    async def _handle(self, c: Consumer, msg: Msg) -> None:
        try:
            envelope, event = self._read(c, msg)
        except _UnreadableError as exc:
            log.error("unreadable event", consumer=c.durable, subject=msg.subject, error=str(exc))
            await self._give_up(c, msg, None, str(exc))
            return
        correlation_id = envelope.correlationid or envelope.id
        with bound_contextvars(correlation_id=correlation_id, event_id=envelope.id, consumer=c.durable):
            try:
                await self._apply(c, envelope, event, correlation_id)
            except Exception as exc:
                await self._failed(c, msg, UUID(envelope.id), exc)
                return
            await msg.ack()

    @staticmethod
    def _read(c: Consumer, msg: Msg) -> tuple[CloudEvent, Event]:
        try:
            envelope = CloudEvent.model_validate_json(msg.data)
            if envelope.type != c.event_type:
                raise ValueError(f"type {envelope.type} on a consumer of {c.event_type}")
            UUID(envelope.id)
            return envelope, event_class(envelope.type).model_validate(envelope.data)
        except (ValidationError, ValueError, KeyError) as exc:
            raise _UnreadableError(f"{type(exc).__name__}: {exc}") from exc

    async def _apply(self, c: Consumer, envelope: CloudEvent, event: Event, correlation_id: str) -> None:
        inbox = self._kit.inbox
        actor = Actor(
            id=SYSTEM.id, kind=SYSTEM.kind, request_id=correlation_id, traceparent=envelope.traceparent
        )
        # Leaving the session without a commit rolls everything back.
        async with self._sessions() as session:
            uow = UnitOfWork(session, self._kit, self._source, self._clock, actor)
            # First, so that a concurrent delivery of the same event waits here for this one to end.
            claimed = (
                await session.execute(
                    pg_insert(inbox)
                    .values(consumer=c.durable, event_id=UUID(envelope.id))
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                )
            ).first()
            if claimed is None:
                log.info("event already applied", consumer=c.durable)
                return
            await c.handler(event, uow)
            await uow.commit()

    async def _failed(self, c: Consumer, msg: Msg, event_id: UUID, exc: Exception) -> None:
        deliveries = msg.metadata.num_delivered
        if deliveries >= self._max_deliver:
            log.error("handler failed for the last time", deliveries=deliveries, exc_info=exc)
            await self._give_up(c, msg, event_id, "".join(traceback.format_exception(exc)))
            return
        delay = self._backoff[min(deliveries, len(self._backoff)) - 1] if self._backoff else None
        log.warning("handler failed; will retry", deliveries=deliveries, retry_in=delay, exc_info=exc)
        await msg.nak(delay=delay)

    async def _give_up(self, c: Consumer, msg: Msg, event_id: UUID | None, error: str) -> None:
        """Dead-letter the message in a transaction of its own, then stop its redelivery."""
        deliveries = msg.metadata.num_delivered
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(self._kit.dead_letter).values(
                        consumer=c.durable,
                        event_id=event_id,
                        subject=msg.subject,
                        payload=msg.data,
                        error=error,
                        deliveries=deliveries,
                    )
                )
        except Exception:  # the database is away: keep the message on the stream while deliveries remain
            log.exception("dead-lettering failed", consumer=c.durable, deliveries=deliveries)
            await msg.nak(delay=self._backoff[-1] if self._backoff else None)
            return
        await msg.term()


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
