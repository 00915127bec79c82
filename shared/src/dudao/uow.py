"""The unit of work: one transaction that carries the state change, its events and its audit entries.

Services add rows through repositories, ``emit`` events and ``record`` audit entries; nothing reaches
the database's outbox or audit log until ``commit``, which writes all three in the same transaction.
An event emitted in a transaction that rolls back is therefore never published.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import TextClause, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import audit
from dudao.clock import Clock
from dudao.events.catalog import Event
from dudao.events.envelope import CloudEvent
from dudao.tables import KitTables


@cache
def side_effects_statement(kit: KitTables) -> TextClause:
    """Outbox rows and audit entries from two JSON arrays, in one round trip with one cached plan."""
    schema = kit.schema
    # The schema name is the kit's own, never input.
    return text(f"""
        WITH new_events AS (
            INSERT INTO {schema}.outbox (event_id, type, division_code, envelope)
            SELECT event_id, type, division_code, envelope
            FROM jsonb_to_recordset(CAST(:outbox AS jsonb))
                 AS e(event_id uuid, type text, division_code text, envelope jsonb)
            ON CONFLICT (event_id) DO NOTHING
        )
        INSERT INTO {schema}.audit_log (occurred_at, actor, actor_kind, action, record_type, record_id,
                                        division_code, source_address, request_id, details)
        SELECT occurred_at, actor, actor_kind, action, record_type, record_id, division_code,
               source_address, request_id, coalesce(details, '{{}}'::jsonb)
        FROM jsonb_to_recordset(CAST(:audit AS jsonb))
             AS a(occurred_at timestamptz, actor text, actor_kind text, action text, record_type text,
                  record_id text, division_code text, source_address text, request_id text, details jsonb)
    """)  # noqa: S608


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person, a machine client, or the system itself (workers, the scheduler)."""

    id: str
    kind: str = "system"
    source_address: str | None = None
    request_id: str | None = None
    traceparent: str | None = None


SYSTEM = Actor(id="system", kind="system")


@dataclass
class UnitOfWork:
    session: AsyncSession
    kit: KitTables
    source: str
    clock: Clock
    actor: Actor = SYSTEM
    # Set in request processes: NOTIFY after commit, coalesced, instead of inside the transaction,
    # where PostgreSQL holds a database-wide lock from the NOTIFY to the end of the commit.
    notify: Callable[[str], None] | None = None
    _notify_after_commit: bool = False
    _events: list[CloudEvent] = field(default_factory=list)
    _audit: list[audit.AuditEntry] = field(default_factory=list)

    def emit(self, event: Event) -> CloudEvent:
        envelope = CloudEvent(
            id=str(event.event_id()),
            source=self.source,
            type=event.event_type,
            subject=event.subject(),
            time=self.clock.now(),
            data=event.model_dump(mode="json"),
            division=event.division,
            traceparent=self.actor.traceparent,
            correlationid=self.actor.request_id,
        )
        self._events.append(envelope)
        return envelope

    def record(
        self, action: str, record_type: str, record_id: object, division_code: str | None, **details: Any
    ) -> None:
        self._audit.append(
            audit.AuditEntry(
                occurred_at=self.clock.now(),
                actor=self.actor.id,
                actor_kind=self.actor.kind,
                action=action,
                record_type=record_type,
                record_id=str(record_id),
                division_code=division_code,
                source_address=self.actor.source_address,
                request_id=self.actor.request_id,
                details=details,
            )
        )

    @property
    def pending_events(self) -> list[CloudEvent]:
        return list(self._events)

    async def flush_side_effects(self) -> None:
        """Write queued events to the outbox and audit entries to the log: one statement, this transaction."""
        if not self._events and not self._audit:
            return
        outbox = [
            {
                "event_id": e.id,
                "type": e.type,
                "division_code": e.division,
                "envelope": e.model_dump(mode="json"),
            }
            for e in self._events
        ]
        entries = [{**entry.__dict__, "occurred_at": entry.occurred_at.isoformat()} for entry in self._audit]
        await self.session.execute(
            side_effects_statement(self.kit),
            {"outbox": json.dumps(outbox, default=str), "audit": json.dumps(entries, default=str)},
        )
        if outbox:
            if self.notify is None:
                # Delivered at commit, so the relay wakes exactly when there is something to publish.
                await self.session.execute(select(func.pg_notify(self.kit.notify_channel, "")))
            else:
                self._notify_after_commit = True
        self._events.clear()
        self._audit.clear()

    async def commit(self) -> None:
        await self.session.flush()
        await self.flush_side_effects()
        await self.session.commit()
        if self._notify_after_commit and self.notify is not None:
            self._notify_after_commit = False
            self.notify(self.kit.notify_channel)

    async def rollback(self) -> None:
        self._events.clear()
        self._audit.clear()
        await self.session.rollback()
