"""The unit of work: one transaction that carries the state change, its events and its audit entries.

Services hand the unit of work what they change (``insert``, ``upsert``, ``update`` of rows), ``emit``
events and ``record`` audit entries; nothing is written until ``flush`` or ``commit``, which write each
table with one set-based statement (``dudao.bulk``) and join them with the outbox and the audit log into
as few statements as the change allows: one, for a typical request. An event emitted in a transaction
that rolls back is therefore never published. The ORM session stays for reads (and for the code that
still adds ORM objects, flushed first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dudao import audit, bulk
from dudao.clock import Clock
from dudao.db import violated_constraint
from dudao.errors import DomainError
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
    # NOTIFY after commit, never inside the transaction, where PostgreSQL holds a database-wide lock
    # from the NOTIFY to the end of the commit: processes coalesce them through ``notify``; without one
    # (tests, scripts) the unit of work sends its own after committing.
    notify: Callable[[str], None] | None = None
    # What MACs its audit entries (dudao.audit): the process's key; tests and scripts get the development one.
    audit_keys: audit.AuditKeys = field(default_factory=audit.AuditKeys.development)
    _writes: list[bulk.Write] = field(default_factory=list)
    _violations: dict[str, DomainError] = field(default_factory=dict)
    _events: list[CloudEvent] = field(default_factory=list)
    _audit: list[audit.AuditEntry] = field(default_factory=list)
    _published: bool = False  # outbox rows were written in this transaction

    # ---- changes, handed over: written at flush or commit, one statement per table

    def insert(
        self,
        table: Table,
        rows: Iterable[Mapping[str, Any]],
        *,
        ignore_conflicts: bool = False,
        violations: Mapping[str, DomainError] | None = None,
    ) -> None:
        """Insert ``rows``; a broken constraint named in ``violations`` raises that error at flush."""
        self._add(
            bulk.write("insert_ignore" if ignore_conflicts else "insert", table, rows, schema=self._in(table))
        )
        self._violations.update(violations or {})

    def upsert(
        self,
        table: Table,
        rows: Iterable[Mapping[str, Any]],
        *,
        keys: Sequence[str],
        only_newer: str | None = None,
        violations: Mapping[str, DomainError] | None = None,
    ) -> None:
        """Insert ``rows``, or update the row already there with the same ``keys`` (with ``only_newer``, only
        if the row brings a greater value of that version column: a stale fact never overwrites); a broken
        constraint named in ``violations`` raises that error at flush."""
        self._add(bulk.write("upsert", table, rows, schema=self._in(table), keys=keys, only_newer=only_newer))
        self._violations.update(violations or {})

    def update(
        self,
        table: Table,
        rows: Iterable[Mapping[str, Any]],
        *,
        keys: Sequence[str] = ("id",),
        violations: Mapping[str, DomainError] | None = None,
    ) -> None:
        """Set the columns each row names on the row with its ``keys`` (which the caller has locked); a
        broken constraint named in ``violations`` raises that error at flush."""
        self._add(bulk.write("update", table, rows, schema=self._in(table), keys=keys))
        self._violations.update(violations or {})

    def _in(self, table: Table) -> str:
        """The schema a table is written in: its own, or the service's for the kit's schemaless tables."""
        return table.schema or self.kit.schema

    def _add(self, write: bulk.Write | None) -> None:
        if write is not None:
            self._writes.append(write)

    # ---- events and audit entries

    def emit(self, event: Event) -> CloudEvent:
        # Constructed, not validated again: every part is already typed (the event is a validated model).
        envelope = CloudEvent.model_construct(
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

    def emit_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.emit(event)

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

    def record_reads(
        self, action: str, record_type: str, records: Sequence[Mapping[str, Any]], via: str
    ) -> None:
        """One entry for a read of personal data, naming every record it showed (``id``, with their
        ``division_code``): a page of fifty is one row to write and seal, not fifty."""
        if not records:
            return
        ids = [str(r["id"]) for r in records]
        divisions = {r["division_code"] for r in records}
        division = divisions.pop() if len(divisions) == 1 else None
        self.record(action, record_type, ids[0] if len(ids) == 1 else "*", division, via=via, records=ids)

    @property
    def pending_events(self) -> list[CloudEvent]:
        return list(self._events)

    # ---- writing

    async def flush(self) -> None:
        """Write everything handed over so far: the changes, then the outbox rows and audit entries."""
        await self.session.flush()
        await self._execute(self._take_statements())

    async def commit(self) -> None:
        await self.session.flush()
        statements = self._take_statements()
        engine = self.session.bind
        if len(statements) == 1 and not self.session.in_transaction() and isinstance(engine, AsyncEngine):
            # The change read nothing (no transaction has begun, so nothing it saw can have changed) and
            # fits one statement: that statement alone, with no BEGIN and COMMIT around it.
            await self._mapping_violations(bulk.execute_alone(engine, statements[0]))
        else:
            await self._execute(statements)
            await self.session.commit()
        if self._published:
            self._published = False
            if self.notify is not None:
                self.notify(self.kit.notify_channel)
            else:  # in a transaction of its own, which holds nothing another writer waits for
                await self.session.execute(select(func.pg_notify(self.kit.notify_channel, "")))
                await self.session.commit()

    async def rollback(self) -> None:
        self._writes.clear()
        self._violations.clear()
        self._events.clear()
        self._audit.clear()
        self._published = False
        await self.session.rollback()

    def _side_effects(self) -> list[bulk.Write]:
        outbox = bulk.write(
            "insert_ignore",  # derived ids make a fact noticed twice land once
            self.kit.outbox,
            (
                {
                    "event_id": e.id,
                    "type": e.type,
                    "division_code": e.division,
                    "envelope": bulk.Json(e.model_dump_json()),
                }
                for e in self._events
            ),
            schema=self.kit.schema,
        )
        entries = bulk.write(
            "insert",
            self.kit.audit_log,
            (e.row(self.audit_keys, self.kit.schema) for e in self._audit),
            schema=self.kit.schema,
        )
        return [w for w in (outbox, entries) if w is not None]

    def _take_statements(self) -> list[list[bulk.Write]]:
        """Everything handed over so far, as the statements that write it; the unit of work holds
        nothing more after this."""
        writes = [*self._writes, *self._side_effects()]
        self._published = self._published or bool(self._events)
        self._writes.clear()
        self._events.clear()
        self._audit.clear()
        return _statements(writes)

    async def _execute(self, statements: list[list[bulk.Write]]) -> None:
        for writes in statements:
            await self._mapping_violations(bulk.execute(self.session, writes))

    async def _mapping_violations(self, write: Awaitable[None]) -> None:
        """A broken constraint that the service named raises its domain error."""
        try:
            await write
        except IntegrityError as exc:
            error = self._violations.get(violated_constraint(exc) or "")
            if error is not None:
                raise error from exc
            raise


def _statements(writes: list[bulk.Write]) -> list[list[bulk.Write]]:
    """Writes joined into as few statements as keep their meaning: one statement sees the database as it
    was before the statement, so an update or upsert of a table written earlier in the change (which
    would not see those rows) starts a new statement. Writes of one shape are merged first."""
    merged: list[bulk.Write] = []
    for w in writes:
        if merged and merged[-1].shape == w.shape and w.shape.kind in ("insert", "insert_ignore"):
            merged[-1] = merged[-1].merged(w)
        else:
            merged.append(w)
    groups: list[list[bulk.Write]] = []
    written: set[tuple[str, str]] = set()
    for w in merged:
        target = (w.shape.schema, w.shape.table.name)
        if not groups or (w.shape.kind in ("update", "upsert") and target in written):
            groups.append([])
            written = set()
        groups[-1].append(w)
        written.add(target)
    return groups
