"""The append-only audit log: every write, chained by hashes so that any edit breaks the chain.

Each entry's hash covers its content and the previous entry's hash. Appends take a transaction-level
advisory lock, so two writers never chain onto the same predecessor; the lock is held only from the
append to the commit, which the unit of work does last.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    occurred_at: datetime
    actor: str
    actor_kind: str
    action: str
    record_type: str
    record_id: str
    division_code: str | None = None
    source_address: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def canonical(self) -> bytes:
        return json.dumps(
            {
                "occurred_at": self.occurred_at.isoformat(),
                "actor": self.actor,
                "actor_kind": self.actor_kind,
                "action": self.action,
                "record_type": self.record_type,
                "record_id": self.record_id,
                "division_code": self.division_code,
                "source_address": self.source_address,
                "request_id": self.request_id,
                "details": self.details,
            },
            sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
        ).encode()


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + entry.canonical()).hexdigest()


async def append(session: AsyncSession, table: Table, lock_key: str, entries: list[AuditEntry]) -> None:
    if not entries:
        return
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock_key, 0))))
    prev = (await session.execute(select(table.c.hash).order_by(table.c.seq.desc()).limit(1))).scalar()
    prev = prev or GENESIS
    rows = []
    for entry in entries:
        digest = chain_hash(prev, entry)
        rows.append({**entry.__dict__, "prev_hash": prev, "hash": digest})
        prev = digest
    await session.execute(insert(table), rows)


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


async def verify(conn: AsyncConnection, table: Table, batch: int = 5000) -> tuple[int, BrokenLink | None]:
    """Walk the chain in order; return how many entries were checked and the first broken link."""
    prev = GENESIS
    checked = 0
    last_seq = 0
    columns = [c for c in table.c if c.name not in ("seq", "prev_hash", "hash")]
    while True:
        rows = (await conn.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        )).mappings().all()
        if not rows:
            return checked, None
        for row in rows:
            entry = AuditEntry(**{c.name: row[c.name] for c in columns})
            if row["prev_hash"] != prev:
                return checked, BrokenLink(row["seq"], "its prev_hash does not match the entry before it "
                                                       "(an entry was removed or reordered)")
            if chain_hash(prev, entry) != row["hash"]:
                return checked, BrokenLink(row["seq"], "its content does not match its hash (it was edited)")
            prev = row["hash"]
            last_seq = row["seq"]
            checked += 1


# Installed by each schema's first migration: the table refuses UPDATE and DELETE.
APPEND_ONLY_DDL = """
CREATE OR REPLACE FUNCTION {schema}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_append_only();
"""


def append_only_statements(schema: str) -> list[Any]:
    sql = APPEND_ONLY_DDL.format(schema=schema)
    head, tail = sql.split("END $$;")
    return [text(head + "END $$;"), text(tail)]
