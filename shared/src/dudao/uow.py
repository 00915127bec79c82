"""The unit of work: one transaction that carries the state change, its events and its audit entries.

Services add rows through repositories, ``emit`` events and ``record`` audit entries; nothing reaches
the database's outbox or audit log until ``commit``, which writes all three in the same transaction.
An event emitted in a transaction that rolls back is therefore never published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import audit
from dudao.clock import Clock
from dudao.events.catalog import Event
from dudao.events.envelope import CloudEvent
from dudao.tables import KitTables


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

    def record(self, action: str, record_type: str, record_id: object, division_code: str | None,
               **details: Any) -> None:
        self._audit.append(audit.AuditEntry(
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
        ))

    @property
    def pending_events(self) -> list[CloudEvent]:
        return list(self._events)

    async def flush_side_effects(self) -> None:
        """Write queued events to the outbox and audit entries to the chain, in this transaction."""
        if self._events:
            rows = [{
                "event_id": e.id, "type": e.type, "division_code": e.division,
                "envelope": e.model_dump(mode="json"),
            } for e in self._events]
            outbox = self.kit.outbox
            await self.session.execute(
                pg_insert(outbox).values(rows).on_conflict_do_nothing(index_elements=[outbox.c.event_id])
            )
            # Delivered at commit, so the relay wakes exactly when there is something to publish.
            await self.session.execute(select(func.pg_notify(self.kit.notify_channel, "")))
            self._events.clear()
        if self._audit:
            await audit.append(self.session, self.kit.audit_log, self.kit.audit_lock_key, self._audit)
            self._audit.clear()

    async def commit(self) -> None:
        await self.session.flush()
        await self.flush_side_effects()
        await self.session.commit()

    async def rollback(self) -> None:
        self._events.clear()
        self._audit.clear()
        await self.session.rollback()
