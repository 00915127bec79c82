"""Dead letters: the messages a consumer gave up on, for an operator to list, retry or discard.

A retry puts the message back on the stream for its consumer alone: its body again, on its subject, with
a ``Nats-Msg-Id`` of the dead letter's own (the stream's duplicate window knows the event's id) and a
``Dudao-Retry-For`` header naming the consumer, which the other consumers of the subject ack and skip:
they applied the event already, or dead-lettered it themselves. The consumer's inbox has no row for an
event it never applied, so it handles the event as the first time, or dead-letters it again, as a new
letter. A retried letter is deleted once the stream holds its message, a discarded one at once; both
leave an entry in the schema's audit log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from nats.js import JetStreamContext
from nats.js.api import Header
from sqlalchemy import Column, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dudao.events.nats import STREAM
from dudao.events.relay import envelope_headers
from dudao.tables import KitTables
from dudao.uow import UnitOfWork

RETRY_HEADER = "Dudao-Retry-For"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    event_id: UUID | None
    subject: str
    error: str
    deliveries: int
    failed_at: datetime

    @property
    def summary(self) -> str:
        """The error's last line: a traceback ends with the exception that ended it."""
        lines = [line.strip() for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _columns(kit: KitTables) -> list[Column[Any]]:
    dl = kit.dead_letter
    return [dl.c.id, dl.c.consumer, dl.c.event_id, dl.c.subject, dl.c.error, dl.c.deliveries, dl.c.failed_at]


async def list_letters(
    conn: AsyncConnection, kit: KitTables, *, consumer: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """The oldest ``limit`` dead letters of ``kit``'s schema (of one consumer, if given)."""
    dl = kit.dead_letter
    query = select(*_columns(kit)).order_by(dl.c.id).limit(limit)
    if consumer is not None:
        query = query.where(dl.c.consumer == consumer)
    return [DeadLetter(**row) for row in (await conn.execute(query)).mappings()]


def _retry_headers(payload: bytes, msg_id: str, consumer: str) -> dict[str, str]:
    extra = {RETRY_HEADER: consumer}
    try:
        return envelope_headers(json.loads(payload), msg_id, extra)
    except (ValueError, TypeError, KeyError):  # not an envelope (it was dead-lettered as unreadable)
        return {Header.MSG_ID.value: msg_id, **extra}


async def retry(
    uow: UnitOfWork, js: JetStreamContext, ids: Sequence[int]
) -> tuple[list[DeadLetter], Exception | None]:
    """Put the dead letters ``ids`` back on the stream for their consumers, in order, and delete them.

    They are locked while they are published, so two retries of one letter publish it once. The first
    publish that fails ends the retry: what was published before it is deleted, the rest stays, and the
    error is returned beside the letters retried.
    """
    dl = uow.kit.dead_letter
    rows = (
        (
            await uow.session.execute(
                select(*_columns(uow.kit), dl.c.payload)
                .where(dl.c.id.in_(list(ids)))
                .order_by(dl.c.id)
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    retried: list[DeadLetter] = []
    failure: Exception | None = None
    for row in rows:
        letter = DeadLetter(**{k: v for k, v in row.items() if k != "payload"})
        msg_id = f"dead-letter:{uow.kit.schema}:{letter.id}"
        try:
            await js.publish(
                letter.subject,
                row["payload"],
                headers=_retry_headers(row["payload"], msg_id, letter.consumer),
                stream=STREAM,
            )
        except Exception as exc:  # NATS away, the stream full: the letter stays for another try
            failure = exc
            break
        retried.append(letter)
    if retried:
        await uow.session.execute(delete(dl).where(dl.c.id.in_([letter.id for letter in retried])))
        for letter in retried:
            _record(uow, "dead-letter.retried", letter)
    return retried, failure


async def discard(uow: UnitOfWork, ids: Sequence[int]) -> list[DeadLetter]:
    """Delete the dead letters ``ids``; the audit log keeps what each was."""
    dl = uow.kit.dead_letter
    result = await uow.session.execute(delete(dl).where(dl.c.id.in_(list(ids))).returning(*_columns(uow.kit)))
    discarded = sorted((DeadLetter(**row) for row in result.mappings()), key=lambda letter: letter.id)
    for letter in discarded:
        _record(uow, "dead-letter.discarded", letter)
    return discarded


def _record(uow: UnitOfWork, action: str, letter: DeadLetter) -> None:
    uow.record(
        action,
        "dead_letter",
        letter.id,
        None,
        consumer=letter.consumer,
        event_id=str(letter.event_id) if letter.event_id else None,
        subject=letter.subject,
        deliveries=letter.deliveries,
        failed_at=letter.failed_at.isoformat(),
        error=letter.summary,
    )
