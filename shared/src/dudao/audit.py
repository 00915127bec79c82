"""The append-only audit log: every write, chained by keyed MACs and anchored outside the database.

Requests only append: holding a chain lock until commit would serialize every write of a service.
A sealer in the worker then chains what has committed. It takes only rows whose writing transaction
id is below the oldest running transaction (``pg_snapshot_xmin``): every such transaction has ended,
so no row can later appear before them, and the chain order never has to change.

The key (settings, never the database) makes the log one a database superuser cannot rewrite unseen:
- a service MACs each entry as it writes it (the entry MAC), so a row INSERTed by anyone else is known
  for what it is: the sealer chains it where it finds it, says so, and ``verify`` names it;
- each sealed row's MAC covers its content, its entry MAC, its place in the chain and the previous
  row's MAC, so an edit shows, and re-MACing the entries after it needs the key;
- what a chain alone cannot show is its tail: a chain with its newest entries deleted, or with none
  at all, is still a valid chain. So the worker checkpoints each log (how many entries, the head's
  MAC, when; MAC'd with the key) outside the database, appended to a file and published on the stream,
  and ``verify`` holds the chain against the latest checkpoint of either.
Every MAC reads ``<key id>:<hex>``, so the key can rotate: retired keys still verify what they MAC'd.
The table's triggers (``dudao.kit_migrations``) refuse TRUNCATE, deletes and any update other than
sealing an unsealed row. Entries sealed before the keyed chain (plain SHA-256, ``legacy_hash``) may only
begin a chain, which the first keyed entry's MAC then covers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import Row, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dudao import bulk
from dudao.config import Settings
from dudao.events.nats import STREAM
from dudao.ids import uuid7

GENESIS = "0" * 64

log = structlog.get_logger(__name__)


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
    # Unique, and under the entry MAC: a copy of a genuine row is no second genuine entry.
    entry_id: UUID | None = field(default_factory=uuid7)

    def row(self, keys: AuditKeys, schema: str) -> dict[str, Any]:
        """The entry as the columns of an audit_log row of ``schema``, with its entry MAC."""
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "entry_mac": keys.mac(_entry_message(schema, self)),
        }

    def canonical(self) -> bytes:
        # The values as they read back from the row: the time in UTC, the details as JSON (bulk's encoding).
        return _json(
            {
                "entry_id": None if self.entry_id is None else str(self.entry_id),
                "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
                **{name: getattr(self, name) for name in _CONTENT[1:]},
            }
        )


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


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(entry_id=row["entry_id"], **{name: row[name] for name in _CONTENT})


def _entry_message(schema: str, entry: AuditEntry) -> bytes:
    return f"dudao.audit.entry\n{schema}\n".encode() + entry.canonical()


def _link_message(
    schema: str, chain_seq: int, prev_mac: str, entry: AuditEntry, entry_mac: str | None
) -> bytes:
    return (
        f"dudao.audit.link\n{schema}\n{chain_seq}\n{prev_mac}\n{entry_mac or ''}\n".encode()
        + entry.canonical()
    )


def legacy_hash(prev_hash: str, chain_seq: int, row: Mapping[Any, Any]) -> str:
    """The link of an entry sealed before the keyed chain (no key, no entry id): frozen, never to change."""
    content = {name: row[name] for name in _CONTENT}
    content["occurred_at"] = row["occurred_at"].isoformat()
    return hashlib.sha256(f"{prev_hash}\n{chain_seq}\n".encode() + _json(content)).hexdigest()


@dataclass(frozen=True)
class AuditKeys:
    """The audit key that MACs now, and every key (retired ones too) that still verifies, by key id."""

    key_id: str
    keys: Mapping[str, bytes] = field(repr=False)  # secrets: never in a log line or a traceback

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys:
        keys = {kid: key.get_secret_value().encode() for kid, key in settings.audit_retired_keys.items()}
        keys[settings.audit_key_id] = settings.audit_key.get_secret_value().encode()
        return cls(settings.audit_key_id, keys)

    @staticmethod
    def development() -> AuditKeys:
        """The development key, for units of work that tests and scripts open without settings; a sealer
        with any other key takes their entries for forgeries."""
        return _development_keys()

    def mac(self, message: bytes) -> str:
        return f"{self.key_id}:{hmac.new(self.keys[self.key_id], message, hashlib.sha256).hexdigest()}"

    def check(self, message: bytes, mac: str | None) -> bool:
        key_id, _, digest = (mac or "").partition(":")
        key = self.keys.get(key_id)
        expected = hmac.new(key, message, hashlib.sha256).hexdigest() if key is not None else ""
        return key is not None and hmac.compare_digest(expected, digest)


@cache
def _development_keys() -> AuditKeys:
    return AuditKeys.from_settings(Settings.model_construct())


async def _head(session: AsyncSession, table: Table) -> Row[int, str] | None:
    """The newest sealed entry's place in the chain and its MAC."""
    stmt = (
        select(table.c.chain_seq, table.c.mac)
        .where(table.c.chain_seq.is_not(None))
        .order_by(table.c.chain_seq.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).first()


async def seal(session: AsyncSession, table: Table, lock_key: str, keys: AuditKeys, limit: int = 2000) -> int:
    """Chain the committed, unsealed entries; returns how many were sealed. Sealers take turns.

    An entry whose entry MAC is wrong was not written by a service: it is chained all the same, where it
    is, so that it can be neither dropped nor slipped in later unseen, and ``verify`` names it.
    """
    schema = table.schema or ""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock_key, 0))))
    last = await _head(session, table)
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
        entry = _entry(row)
        if not keys.check(_entry_message(schema, entry), row["entry_mac"]):
            log.error(
                "audit entry not written by a service: its entry MAC is wrong (a forged insert?)",
                schema=schema,
                seq=row["seq"],
                chain_seq=chain_seq,
            )
        mac = keys.mac(_link_message(schema, chain_seq, prev, entry, row["entry_mac"]))
        sealed.append({"seq": row["seq"], "chain_seq": chain_seq, "prev_mac": prev, "mac": mac})
        prev = mac
    seals = bulk.write("update", table, sealed, schema=schema, keys=["seq"])
    if seals is not None:
        await bulk.execute(session, [seals])  # one statement for the whole batch
    return len(sealed)


# ---- checkpoints: the log's length and head, kept outside the database


def log_id(database: str, schema: str) -> str:
    """A log's name in checkpoint files and subjects: databases sharing a stream (tests) keep apart."""
    return hashlib.sha256(f"{database}\n{schema}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    database: str
    log_schema: str
    count: int  # the chain_seq of the head: how many entries the chain held
    head: str  # the head's MAC
    at: datetime
    mac: str

    @staticmethod
    def _message(database: str, schema: str, count: int, head: str, at: datetime) -> bytes:
        return "\n".join(
            ("dudao.audit.checkpoint", database, schema, str(count), head, at.astimezone(UTC).isoformat())
        ).encode()

    @classmethod
    def signed(
        cls, keys: AuditKeys, database: str, schema: str, count: int, head: str, at: datetime
    ) -> Checkpoint:
        return cls(
            database, schema, count, head, at, keys.mac(cls._message(database, schema, count, head, at))
        )

    def genuine(self, keys: AuditKeys) -> bool:
        return keys.check(
            self._message(self.database, self.log_schema, self.count, self.head, self.at), self.mac
        )

    @property
    def log(self) -> str:
        return log_id(self.database, self.log_schema)

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "log_schema": self.log_schema,
            "count": self.count,
            "head": self.head,
            "at": self.at.astimezone(UTC).isoformat(),
            "mac": self.mac,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Raises ValueError for anything that is not a checkpoint."""
        try:
            return cls(
                database=str(data["database"]),
                log_schema=str(data["log_schema"]),
                count=int(data["count"]),
                head=str(data["head"]),
                at=datetime.fromisoformat(str(data["at"])),
                mac=str(data["mac"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a checkpoint: {exc!r}") from None


# A quiet log is checkpointed again after this, so that the stream, which keeps a message for days (its
# max_age), always holds its latest checkpoint.
CHECKPOINT_REFRESH = timedelta(days=1)


def checkpoint_file(directory: Path, database: str, schema: str) -> Path:
    return directory / f"{schema}-{log_id(database, schema)}.jsonl"


def _append(path: Path, checkpoint: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(checkpoint.as_json(), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def latest_in_file(path: Path) -> Checkpoint | None:
    """The file's last complete line (a crash mid-append leaves a partial one after it); raises ValueError
    for a line that is no checkpoint."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 8192))  # a checkpoint is a few hundred bytes
            lines = handle.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return None
    if not lines:
        return None
    try:
        return Checkpoint.from_json(json.loads(lines[-1]))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a checkpoint: {exc}") from None


async def latest_published(js: JetStreamContext, subject: str) -> Checkpoint | None:
    """The last checkpoint on the stream's ``subject``; raises ValueError for one that is unreadable."""
    try:
        message = await js.get_last_msg(STREAM, subject)
    except NotFoundError:
        return None
    try:
        return Checkpoint.from_json(json.loads(message.data or b"")["data"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a checkpoint: {exc!r}") from None


async def checkpoint(
    session: AsyncSession, table: Table, keys: AuditKeys, directory: Path, now: datetime
) -> Checkpoint | None:
    """Append a checkpoint of the sealed chain to its file, unless the file's latest already holds its head
    and is recent (``CHECKPOINT_REFRESH``); the caller publishes it (through the outbox). Only committed
    entries are seen, so a checkpoint is true whether or not the caller's transaction commits."""
    schema = table.schema or ""
    database = (await session.execute(select(func.current_database()))).scalar_one()
    head = await _head(session, table)
    if head is None:
        return None
    path = checkpoint_file(directory, database, schema)
    try:
        latest = latest_in_file(path)
    except ValueError:
        latest = None  # a line that is no checkpoint (a forger's?): the next good one goes after it
    if (
        latest is not None
        and (latest.count, latest.head) == (head[0], head[1])
        and now - latest.at < CHECKPOINT_REFRESH
    ):
        return None
    made = Checkpoint.signed(keys, database, schema, head[0], head[1], now)
    await asyncio.to_thread(_append, path, made)
    return made


# ---- verification


async def verify_log(
    conn: AsyncConnection,
    table: Table,
    keys: AuditKeys,
    directory: Path,
    js: JetStreamContext | None,
    subject: Callable[[str], str],
) -> Verification:
    """``verify`` against the log's latest checkpoints: its file's in ``directory`` and, with ``js``, the
    stream's on ``subject(log id)``."""
    schema = table.schema or ""
    database = (await conn.execute(select(func.current_database()))).scalar_one()
    try:
        found = [latest_in_file(checkpoint_file(directory, database, schema))]
        if js is not None:
            found.append(await latest_published(js, subject(log_id(database, schema))))
    except ValueError as exc:
        return Verification(0, 0, BrokenLink(f"a checkpoint of the log is unreadable ({exc})"))
    return await verify(conn, table, keys, [cp for cp in found if cp is not None])


@dataclass(frozen=True)
class BrokenLink:
    reason: str
    chain_seq: int | None = None  # the entry of the chain; None: a checkpoint, or an entry not yet sealed
    seq: int | None = None


@dataclass(frozen=True)
class Verification:
    checked: int
    unsealed: int
    broken: BrokenLink | None
    checkpoint: Checkpoint | None = None  # the latest checkpoint the chain was held against


async def verify(
    conn: AsyncConnection,
    table: Table,
    keys: AuditKeys,
    checkpoints: Sequence[Checkpoint] = (),
    batch: int = 5000,
) -> Verification:
    """Walk the chain in order and name the first broken link: an edit, a deletion, a forged entry, or a
    chain shorter than (or different from) the latest of ``checkpoints``; then check the entries not yet
    sealed."""
    schema = table.schema or ""
    database = (await conn.execute(select(func.current_database()))).scalar_one()
    latest, broken = _latest(keys, database, schema, checkpoints)
    if broken is not None:
        return Verification(0, 0, broken)
    prev, expected, checked, keyed = GENESIS, 1, 0, False
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
            reason = _link_fault(keys, schema, row, expected, prev, keyed)
            if (
                reason is None
                and latest is not None
                and expected == latest.count
                and row["mac"] != latest.head
            ):
                reason = f"it differs from the checkpoint of {_when(latest)} (the log was rewritten)"
            if reason is not None:
                return Verification(checked, 0, BrokenLink(reason, expected, row["seq"]), latest)
            keyed = keyed or ":" in row["mac"]
            prev, expected, checked = row["mac"], expected + 1, checked + 1
        if len(rows) < batch:
            break
    if latest is not None and checked < latest.count:
        reason = (
            f"the log ends at entry {checked}, but the checkpoint of {_when(latest)} counted {latest.count}: "
            "entries were deleted from its end (or the log was truncated)"
        )
        return Verification(checked, 0, BrokenLink(reason, checked + 1), latest)
    unsealed, forged = await _unsealed(conn, table, keys, batch)
    if forged is not None:
        reason = "its entry MAC is wrong: it was not written by a service (a forged insert, not yet sealed)"
        return Verification(checked, unsealed, BrokenLink(reason, None, forged), latest)
    return Verification(checked, unsealed, None, latest)


def _latest(
    keys: AuditKeys, database: str, schema: str, checkpoints: Sequence[Checkpoint]
) -> tuple[Checkpoint | None, BrokenLink | None]:
    """The latest of the checkpoints, each of which must be genuine and of this log."""
    for cp in checkpoints:
        if not cp.genuine(keys):
            return None, BrokenLink(f"the checkpoint of {_when(cp)} is not genuine (its MAC is wrong)")
        if (cp.database, cp.log_schema) != (database, schema):
            return None, BrokenLink(
                f"a checkpoint of another log ({cp.database}, {cp.log_schema}) was offered"
            )
    latest = max(checkpoints, key=lambda cp: cp.count, default=None)
    for cp in checkpoints:
        if latest is not None and cp.count == latest.count and cp.head != latest.head:
            return None, BrokenLink(f"two checkpoints of entry {cp.count} disagree on its MAC", cp.count)
    return latest, None


def _when(cp: Checkpoint) -> str:
    return f"{cp.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _link_fault(
    keys: AuditKeys, schema: str, row: Mapping[Any, Any], expected: int, prev: str, keyed: bool
) -> str | None:
    if row["chain_seq"] != expected:
        return "the entry before it is missing (deleted)"
    if row["prev_mac"] != prev:
        return "its prev_mac does not match the entry before it"
    if ":" not in (row["mac"] or ""):  # sealed before the keyed chain
        if keyed:
            return "it is an unkeyed entry after the keyed chain began (it was re-hashed)"
        if legacy_hash(prev, expected, row) != row["mac"]:
            return "its content does not match its hash (it was edited)"
        return None
    entry = _entry(row)
    if not keys.check(_link_message(schema, expected, prev, entry, row["entry_mac"]), row["mac"]):
        return "its content does not match its MAC (it was edited, or re-MAC'd without the key)"
    if not keys.check(_entry_message(schema, entry), row["entry_mac"]):
        return "its entry MAC is wrong: it was not written by a service (a forged insert)"
    return None


async def _unsealed(
    conn: AsyncConnection, table: Table, keys: AuditKeys, batch: int
) -> tuple[int, int | None]:
    """How many entries wait for the sealer, and the seq of the first of them that is forged."""
    schema = table.schema or ""
    count, after = 0, 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(table)
                    .where(table.c.chain_seq.is_(None), table.c.seq > after)
                    .order_by(table.c.seq)
                    .limit(batch)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            if not keys.check(_entry_message(schema, _entry(row)), row["entry_mac"]):
                return count, row["seq"]
            count += 1
        if len(rows) < batch:
            return count, None
        after = rows[-1]["seq"]
