"""Durable pull consumers: one per handler, explicit acks, finite redelivery with backoff, dead letters.

A consumer handles a fetched batch in one transaction (``handle_many``): the batch's ids are claimed in
the inbox with one statement, first, so a redelivered event (an ack lost, a replay, two replicas
racing) finds its row and changes nothing; the handler gets the claimed events in rounds in which each
subject (one rectification, one case) appears once, in the order they were published; the effects and
the inbox rows commit together. If the batch fails, its events are tried again one per transaction, so
a poison event is retried and dead-lettered alone and never takes its neighbours with it. The next
batch is fetched while one is handled. A handler that keeps failing is retried after
``consumer_backoff_seconds`` (a ``nak`` with that delay) until ``consumer_max_deliver`` deliveries,
then dead-lettered; an envelope that cannot be read is dead-lettered at once. ``dudao events
dead-letters retry`` puts a dead letter back on the stream for its consumer alone.

Nothing on the wire is taken on trust. An event whose envelope names a source other than the service its
subject belongs to (``dudao.events.permissions``) is dead-lettered at once, like an unreadable one; a
handler that cannot verify what an event claims raises ``Unverifiable``: retried as any failure (the
fact that proves it may still be on its way, on another durable), then dead-lettered, never obeyed.

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
from typing import Any, TypeVar, cast
from uuid import UUID

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.contextvars import bound_contextvars

from dudao import bulk
from dudao.audit import AuditKeys
from dudao.clock import Clock
from dudao.config import Settings
from dudao.events.catalog import Event, event_class
from dudao.events.dead_letters import RETRY_HEADER
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM
from dudao.events.permissions import may_claim
from dudao.events.stream import require_stream
from dudao.ids import uuid7
from dudao.tables import KitTables
from dudao.uow import SYSTEM, Actor, UnitOfWork

E = TypeVar("E", bound=Event)

Handler = Callable[[Event, UnitOfWork], Awaitable[None]]
BatchHandler = Callable[[Sequence[Event], UnitOfWork], Awaitable[None]]

_FETCH_BATCH = 256
_FETCH_WAIT_SECONDS = 5.0
# The server holds a pull for more than one message until its expiry (the fetch's timeout) even when
# fewer are waiting: so it is kept short. Messages that arrive after it are in the next fetch.
_ALREADY_WAITING_SECONDS = 0.002
_RETRY_PAUSE_SECONDS = 1.0
_INVALID_NAME_CHARS = frozenset(".*> \t\r\n")

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Consumer:
    event_type: str
    durable: str
    # Exactly one of: a handler of one event at a time (what it emits carries that event's correlation
    # id), or a set-based handler of a round of events, each subject at most once, in publishing order.
    handler: Handler | None = None
    handle_many: BatchHandler | None = None
    # What the durable filters on the stream: the event type (by default), or a narrower subject.
    subject: str = ""

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.handle_many is None):
            raise ValueError(f"consumer {self.durable} needs exactly one of handler and handle_many")
        if not self.subject:
            object.__setattr__(self, "subject", self.event_type)


def _checked(event_type: str, durable: str, subject: str | None) -> str:
    event_class(event_type)  # an unknown type fails at import, not at the first message
    if not durable or _INVALID_NAME_CHARS & set(durable):
        raise ValueError(f"durable name {durable!r} must be non-empty without '.', '*', '>' or whitespace")
    subject = subject or event_type
    if subject != event_type and not subject.startswith(event_type + "."):
        raise ValueError(f"subject {subject} is not within {event_type}")
    return subject


def batch_consumer(
    event_type: str, *, durable: str, subject: str | None = None
) -> Callable[[Callable[[Sequence[E], UnitOfWork], Awaitable[None]]], Consumer]:
    """Declare a set-based handler of ``event_type`` (in the catalog): it gets a round of events at once."""
    filtered = _checked(event_type, durable, subject)

    def register(handler: Callable[[Sequence[E], UnitOfWork], Awaitable[None]]) -> Consumer:
        # The runner passes exactly instances of event_class(event_type), the handler's own type.
        return Consumer(event_type, durable, handle_many=cast(BatchHandler, handler), subject=filtered)

    return register


def consumer(
    event_type: str, *, durable: str, subject: str | None = None
) -> Callable[[Callable[[E, UnitOfWork], Awaitable[None]]], Consumer]:
    """Declare a handler of one event at a time; a batch's events are handed to it in turn, in one
    transaction."""
    filtered = _checked(event_type, durable, subject)

    def register(handler: Callable[[E, UnitOfWork], Awaitable[None]]) -> Consumer:
        return Consumer(event_type, durable, handler=cast(Handler, handler), subject=filtered)

    return register


class Unverifiable(Exception):
    """What an event claims does not hold against what the handler knows (a step of a rectification it
    never saw opened, say); the message says why."""


class _UnreadableError(Exception):
    """The message is not a CloudEvent of the consumer's type from its subject's service: no retry helps."""

    def __init__(self, reason: str, event_id: UUID | None = None) -> None:
        super().__init__(reason)
        self.event_id = event_id


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
        notify: Callable[[str], None] | None = None,
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
        self._notify = notify
        self._audit_keys = AuditKeys.from_settings(settings)

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
                filter_subject=c.subject,
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
        # The next batch is fetched while this one is handled, so no event waits for a whole batch
        # to be handled before it is even fetched.
        fetching = asyncio.ensure_future(self._fetch(subscription, stop))
        try:
            while not stop.is_set():
                try:
                    messages = await fetching
                except Exception:  # a reconnect or a leader change: pause, then pull again
                    log.exception("fetch failed", consumer=c.durable)
                    await _sleep_unless_stopped(stop, _RETRY_PAUSE_SECONDS)
                    messages = []
                fetching = asyncio.ensure_future(self._fetch(subscription, stop))
                if messages:
                    await self._handle_batch(c, messages)
        finally:
            if not fetching.done():
                fetching.cancel()
            await asyncio.wait({fetching})

    async def _handle_batch(self, c: Consumer, messages: list[Msg]) -> None:
        readable: list[tuple[Msg, CloudEvent, Event]] = []
        ours: list[Msg] = []
        theirs: list[Msg] = []  # dead letters retried for other consumers of the subject (dead_letters.py)
        for msg in messages:
            (ours if (msg.headers or {}).get(RETRY_HEADER, c.durable) == c.durable else theirs).append(msg)
        if theirs:
            await self._ack_all(theirs, c)
        for msg in ours:
            try:
                envelope, event = self._read(c, msg)
            except _UnreadableError as exc:
                log.error("event refused", consumer=c.durable, subject=msg.subject, error=str(exc))
                await self._give_up(c, msg, exc.event_id, str(exc))
                continue
            readable.append((msg, envelope, event))
        if len(readable) == 1:
            await self._handle_batch_of_one(c, readable[0])
            return
        if not readable:
            return
        with bound_contextvars(consumer=c.durable, batch=len(readable)):
            try:
                await self._apply(c, readable)
            except Exception as exc:
                # Find the poison one: each event again in a transaction of its own, in order.
                log.warning("batch failed; handling its events one by one", exc_info=exc)
                for one in readable:
                    await self._handle_batch_of_one(c, one)
                return
            await self._ack_all([m for m, _, _ in readable], c)

    async def _handle_batch_of_one(self, c: Consumer, one: tuple[Msg, CloudEvent, Event]) -> None:
        msg, envelope, _ = one
        with bound_contextvars(consumer=c.durable, event_id=envelope.id):
            try:
                await self._apply(c, [one])
            except Exception as exc:
                await self._failed(c, msg, UUID(envelope.id), exc)
                return
            await self._ack_all([msg], c)

    @staticmethod
    async def _ack_all(messages: list[Msg], c: Consumer) -> None:
        results = await asyncio.gather(*(m.ack() for m in messages), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:  # NATS away: the server redelivers after ack_wait, and the inbox drops them
            log.warning("acks failed", consumer=c.durable, failed=len(failed), error=repr(failed[0]))

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

    @staticmethod
    def _read(c: Consumer, msg: Msg) -> tuple[CloudEvent, Event]:
        try:
            envelope = CloudEvent.model_validate_json(msg.data)
            if envelope.type != c.event_type:
                raise ValueError(f"type {envelope.type} on a consumer of {c.event_type}")
            event_id = UUID(envelope.id)
            if not may_claim(msg.subject, envelope.source):
                raise _UnreadableError(f"{envelope.source} may not publish on {msg.subject}", event_id)
            return envelope, event_class(envelope.type).model_validate(envelope.data)
        except (ValidationError, ValueError, KeyError) as exc:
            raise _UnreadableError(f"{type(exc).__name__}: {exc}") from exc

    async def _apply(self, c: Consumer, batch: list[tuple[Msg, CloudEvent, Event]]) -> None:
        inbox = self._kit.inbox
        first = batch[0][1]
        correlation_id = (first.correlationid or first.id) if len(batch) == 1 else str(uuid7())
        actor = Actor(
            id=SYSTEM.id, kind=SYSTEM.kind, request_id=correlation_id, traceparent=first.traceparent
        )
        # Leaving the session without a commit rolls everything back.
        async with self._sessions() as session:
            uow = UnitOfWork(
                session,
                self._kit,
                self._source,
                self._clock,
                actor,
                notify=self._notify,
                audit_keys=self._audit_keys,
            )
            # First, so that a concurrent delivery of the same event waits here for this one to end; in
            # id order, so that two batches sharing events never wait for each other crosswise.
            ids = sorted({UUID(envelope.id) for _, envelope, _ in batch})
            claim = bulk.write(
                "insert_ignore",
                inbox,
                ({"consumer": c.durable, "event_id": i} for i in ids),
                schema=self._kit.schema,
            )
            assert claim is not None
            claimed = {row.event_id for row in await bulk.fetch(session, claim, ["event_id"])}
            # Copies of one event in the batch (a replay fetched beside the original) apply once.
            events = list(
                {
                    envelope.id: (envelope, event)
                    for _, envelope, event in batch
                    if UUID(envelope.id) in claimed
                }.values()
            )
            if len(events) < len(ids):
                log.info("events already applied", consumer=c.durable, count=len(batch) - len(events))
            if c.handle_many is not None:
                for round_ in _rounds(events):
                    await c.handle_many(round_, uow)
            else:
                assert c.handler is not None, "a consumer has one of the two"
                for envelope, event in events:
                    uow.actor = _actor_of(envelope)
                    await c.handler(event, uow)
            await uow.commit()

    async def _failed(self, c: Consumer, msg: Msg, event_id: UUID, exc: Exception) -> None:
        deliveries = msg.metadata.num_delivered
        # An unverifiable event is no bug: its reason says all, without a traceback.
        unverifiable = isinstance(exc, Unverifiable)
        details: dict[str, Any] = {"error": str(exc)} if unverifiable else {"exc_info": exc}
        if deliveries >= self._max_deliver:
            log.error("handler failed for the last time", deliveries=deliveries, **details)
            error = str(exc) if unverifiable else "".join(traceback.format_exception(exc))
            await self._give_up(c, msg, event_id, error)
            return
        delay = self._backoff[min(deliveries, len(self._backoff)) - 1] if self._backoff else None
        log.warning("handler failed; will retry", deliveries=deliveries, retry_in=delay, **details)
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


def _actor_of(envelope: CloudEvent) -> Actor:
    """The system, acting on an event: what it writes carries the event's correlation id."""
    correlation_id = envelope.correlationid or envelope.id
    return Actor(id=SYSTEM.id, kind=SYSTEM.kind, request_id=correlation_id, traceparent=envelope.traceparent)


def _rounds(events: list[tuple[CloudEvent, Event]]) -> list[list[Event]]:
    """The events in rounds, each subject at most once a round and in publishing order: the n-th event of
    a subject goes in round n."""
    rounds: list[list[Event]] = []
    per_subject: dict[str, int] = defaultdict(int)
    for envelope, event in events:
        subject = envelope.subject or envelope.id
        n = per_subject[subject]
        per_subject[subject] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(event)
    return rounds


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
