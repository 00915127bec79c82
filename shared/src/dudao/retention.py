"""Retention: each worker prunes the kit's tables of what no one needs any more, a bounded batch at a time.

- a published outbox row once its replay window (``outbox_retention_days``) has passed; an unpublished
  row never, however old;
- an inbox row after ``inbox_retention_days``, which outlasts the outbox's and the stream's retention
  (``Settings`` refuses less), so that a replayed or redelivered event still finds the row that drops it;
- a stored Idempotency-Key response after ``idempotency_ttl_hours``;
- a dead letter after ``dead_letter_retention_days``.

One statement per table per batch deletes at most ``prune_batch_size`` rows, picked ``FOR UPDATE SKIP
LOCKED``: a prune holds few row locks for a moment and never waits for the relay, a consumer or another
worker's prune. The job drains a backlog batch by batch, in a scheduler of its own so that it never
holds up the domain's timed jobs. Ages are measured by the database's clock, not by the suite's
adjustable one: the stream ages its messages in real time, and the inbox must outlive them in real time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Delete, Table, delete, func, select, tuple_

from dudao.config import Settings
from dudao.scheduler import ScheduledJob, scheduled
from dudao.tables import KitTables
from dudao.uow import UnitOfWork

PRUNE_EVERY = timedelta(minutes=15)


def _bounded_delete(table: Table, timestamp: Column[datetime], age: timedelta, limit: int) -> Delete:
    """``DELETE … WHERE key IN (SELECT key … WHERE timestamp < now() - age LIMIT n FOR UPDATE SKIP
    LOCKED)``."""
    picked = table.alias("picked")
    key = [table.c[c.name] for c in table.primary_key.columns]
    batch = (
        select(*(picked.c[c.name] for c in key))
        .where(picked.c[timestamp.name] < func.now() - age)  # a NULL (unpublished) is never older
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return delete(table).where(tuple_(*key).in_(batch))


def prune_statements(kit: KitTables, settings: Settings) -> list[Delete]:
    """One bounded delete per kit table, in the order the job runs them."""
    limit = settings.prune_batch_size
    return [
        _bounded_delete(
            kit.outbox, kit.outbox.c.published_at, timedelta(days=settings.outbox_retention_days), limit
        ),
        _bounded_delete(
            kit.inbox, kit.inbox.c.processed_at, timedelta(days=settings.inbox_retention_days), limit
        ),
        _bounded_delete(
            kit.idempotency,
            kit.idempotency.c.created_at,
            timedelta(hours=settings.idempotency_ttl_hours),
            limit,
        ),
        _bounded_delete(
            kit.dead_letter,
            kit.dead_letter.c.failed_at,
            timedelta(days=settings.dead_letter_retention_days),
            limit,
        ),
    ]


def prune_job(settings: Settings) -> ScheduledJob:
    """The timed job that prunes the kit's tables of the scheduler's schema."""

    @scheduled(every=PRUNE_EVERY, name="kit-prune", drain=True)
    async def prune(uow: UnitOfWork, now: datetime) -> int:
        deleted = 0
        for statement in prune_statements(uow.kit, settings):
            result = await uow.session.execute(statement)
            deleted += cast(CursorResult[Any], result).rowcount
        return deleted

    return prune
