"""The append-only audit log: every write, chained by hashes so that any edit breaks the chain.

Requests only append: holding a chain lock until commit would serialize every write of a service.
A sealer in the worker then chains what has committed. It takes only rows whose writing transaction
id is below the oldest running transaction (``pg_snapshot_xmin``): every such transaction has ended,
so no row can later appear before them, and the chain order never has to change. Each sealed row's
hash covers its content, its place in the chain and the previous row's hash; the table's trigger
refuses deletes and any update other than sealing an unsealed row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dudao import bulk

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

    def row(self) -> dict[str, Any]:
        """The entry as the columns of an audit_log row."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

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
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        ).encode()


def chain_hash(prev_hash: str, chain_seq: int, entry: AuditEntry) -> str:
    return hashlib.sha256(f"{prev_hash}\n{chain_seq}\n".encode() + entry.canonical()).hexdigest()


_CONTENT = (
    "occurred_at",
    "actor",
    "actor_kind",
    "action",
    "record_type",
    "record_id",
    "division_code",
    "source_address",
    "request_id",
    "details",
)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(**{name: row[name] for name in _CONTENT})


async def seal(session: AsyncSession, table: Table, lock_key: str, limit: int = 2000) -> int:
    """Chain the committed, unsealed entries; returns how many were sealed. Sealers take turns."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock_key, 0))))
    last = (
        await session.execute(
            select(table.c.chain_seq, table.c.hash)
            .where(table.c.chain_seq.is_not(None))
            .order_by(table.c.chain_seq.desc())
            .limit(1)
        )
    ).first()
    chain_seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    horizon = text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
    rows = (
        (
            await session.execute(
                select(table)
                .where(table.c.chain_seq.is_(None), table.c.txid < horizon)
                .order_by(table.c.seq)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    sealed = []
    for row in rows:
        chain_seq += 1
        digest = chain_hash(prev, chain_seq, _entry(row))
        sealed.append({"seq": row["seq"], "chain_seq": chain_seq, "prev_hash": prev, "hash": digest})
        prev = digest
    seals = bulk.write("update", table, sealed, schema=table.schema or "", keys=["seq"])
    if seals is not None:
        await bulk.execute(session, [seals])  # one statement for the whole batch
    return len(sealed)


@dataclass(frozen=True)
class BrokenLink:
    chain_seq: int
    seq: int
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    unsealed: int
    broken: BrokenLink | None


async def verify(conn: AsyncConnection, table: Table, batch: int = 5000) -> Verification:
    """Walk the chain in order and name the first broken link; also count entries not yet sealed."""
    prev, expected, checked = GENESIS, 1, 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(table)
                    .where(table.c.chain_seq >= expected)
                    .order_by(table.c.chain_seq)
                    .limit(batch)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            broken = None
            if row["chain_seq"] != expected:
                broken = "the entry before it is missing (deleted)"
            elif row["prev_hash"] != prev:
                broken = "its prev_hash does not match the entry before it"
            elif chain_hash(prev, expected, _entry(row)) != row["hash"]:
                broken = "its content does not match its hash (it was edited)"
            if broken:
                return Verification(checked, 0, BrokenLink(expected, row["seq"], broken))
            prev, expected, checked = row["hash"], expected + 1, checked + 1
        if len(rows) < batch:
            break
    unsealed = (
        await conn.execute(select(func.count()).select_from(table).where(table.c.chain_seq.is_(None)))
    ).scalar_one()
    return Verification(checked, unsealed, None)


# Installed by each schema's first migration.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND (to_jsonb(NEW) - 'chain_seq' - 'prev_hash' - 'hash')
         = (to_jsonb(OLD) - 'chain_seq' - 'prev_hash' - 'hash')
  THEN
    RETURN NEW;  -- sealing: the chain columns of an unsealed entry, nothing else
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END $$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_append_only()
"""


def append_only_statements(schema: str) -> list[Any]:
    return [text(APPEND_ONLY_FUNCTION.format(schema=schema)), text(APPEND_ONLY_TRIGGER.format(schema=schema))]
