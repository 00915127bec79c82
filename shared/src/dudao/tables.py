"""The tables the kit keeps in every service's schema: outbox, inbox, dead letters and the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class KitTables:
    schema: str
    outbox: Table
    inbox: Table
    dead_letter: Table
    audit_log: Table
    idempotency: Table

    @property
    def notify_channel(self) -> str:
        return f"dudao_outbox_{self.schema}"

    @property
    def audit_lock_key(self) -> str:
        return f"dudao.audit.{self.schema}"


def kit_tables(metadata: MetaData) -> KitTables:
    """Declare the kit's tables in ``metadata`` (whose schema is the service's)."""
    schema = metadata.schema
    assert schema, "kit tables live in a service schema"
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        # Derived ids make a fact noticed twice land once (ON CONFLICT DO NOTHING).
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("type", String(200), nullable=False),
        Column("division_code", String(12), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
        # Pruning finds the rows published before the replay window by this one.
        Index("ix_outbox_published", "published_at", postgresql_where=text("published_at IS NOT NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_processed_at", "processed_at"),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", UUID(as_uuid=True)),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_dead_letter_failed_at", "failed_at"),
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("action", String(100), nullable=False),
        Column("record_type", String(100), nullable=False),
        Column("record_id", String(100), nullable=False),
        Column("division_code", String(12)),
        Column("source_address", String(64)),
        Column("request_id", String(64)),
        Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        # The writing transaction: the sealer chains only entries of transactions that have ended.
        Column(
            "txid", BigInteger, nullable=False, server_default=text("(pg_current_xact_id()::text)::bigint")
        ),
        # Set by the service as it writes the entry (dudao.audit): a row without a good one is forged.
        Column("entry_id", UUID(as_uuid=True), unique=True),
        Column("entry_mac", String(100)),
        Column("chain_seq", BigInteger, unique=True),
        Column("prev_mac", String(100)),
        Column("mac", String(100)),
        Index("ix_audit_log_unsealed", "seq", postgresql_where=text("chain_seq IS NULL")),
    )
    idempotency = Table(
        "idempotency_key",
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_idempotency_key_created_at", "created_at"),
    )
    return KitTables(schema, outbox, inbox, dead_letter, audit_log, idempotency)
