"""Frozen DDL of the kit's tables, shared by every schema's migrations.

A migration must create the same tables on the day it runs as on the day it was written, so these
snapshots never follow the models: a later model change gets a new versioned function (or plain ``op``
calls) in a new revision. Each service's migration calls the snapshot with its own schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dudao.audit import legacy_hash

# The audit log's triggers as the first migration installed them: refuse deletes and any update other
# than sealing an unsealed row (the chain columns, nothing else).
_AUDIT_APPEND_ONLY_V1 = """
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
_AUDIT_APPEND_ONLY_TRIGGER_V1 = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_append_only()
"""


def create_kit_tables_v1(schema: str) -> None:
    """Outbox, inbox, dead letters, audit log (append-only, hash-chained) and idempotency keys."""
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("record_type", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("chain_seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("chain_seq", name=op.f("uq_audit_log_chain_seq")),
        schema=schema,
    )
    op.create_index(
        "ix_audit_log_unsealed",
        "audit_log",
        ["seq"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("chain_seq IS NULL"),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        schema=schema,
    )
    op.create_table(
        "idempotency_key",
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_key")),
        schema=schema,
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        schema=schema,
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.execute(_AUDIT_APPEND_ONLY_V1.format(schema=schema))
    op.execute(_AUDIT_APPEND_ONLY_TRIGGER_V1.format(schema=schema))


def drop_kit_tables_v1(schema: str) -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.audit_log_append_only() CASCADE")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox", schema=schema)
    op.drop_table("inbox", schema=schema)
    op.drop_table("idempotency_key", schema=schema)
    op.drop_table("dead_letter", schema=schema)
    op.drop_index(
        "ix_audit_log_unsealed",
        table_name="audit_log",
        schema=schema,
        postgresql_where=sa.text("chain_seq IS NULL"),
    )
    op.drop_table("audit_log", schema=schema)


# The kit's tables by what pruning compares with its retention (dudao.retention).
_RETENTION_INDEXES_V1 = (
    ("ix_outbox_published", "outbox", "published_at", "published_at IS NOT NULL"),
    ("ix_inbox_processed_at", "inbox", "processed_at", None),
    ("ix_dead_letter_failed_at", "dead_letter", "failed_at", None),
    ("ix_idempotency_key_created_at", "idempotency_key", "created_at", None),
)


def create_kit_retention_indexes_v1(schema: str) -> None:
    for name, table, column, where in _RETENTION_INDEXES_V1:
        op.create_index(
            name,
            table,
            [column],
            schema=schema,
            postgresql_where=sa.text(where) if where else None,
        )


def drop_kit_retention_indexes_v1(schema: str) -> None:
    for name, table, _column, _where in _RETENTION_INDEXES_V1:
        op.drop_index(name, table_name=table, schema=schema)


# The keyed chain (dudao.audit): the same rule under the new column names, nested so that a statement
# trigger (whose OLD and NEW are null) reaches the RAISE; and a statement trigger that refuses TRUNCATE.
_AUDIT_APPEND_ONLY_V2 = """
CREATE OR REPLACE FUNCTION {schema}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_seq' - 'prev_mac' - 'mac')
           = (to_jsonb(OLD) - 'chain_seq' - 'prev_mac' - 'mac')
    THEN
      RETURN NEW;  -- sealing: the chain columns of an unsealed entry, nothing else
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$
"""
_AUDIT_NO_TRUNCATE_TRIGGER_V2 = """
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {schema}.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_log_append_only()
"""


def upgrade_audit_log_v2(schema: str) -> None:
    """The keyed chain: entry ids and entry MACs, MACs ("<key id>:<hex>") in place of the hashes, and no
    TRUNCATE. Entries still unsealed are sealed first under the rule they were written for (SHA-256), so
    that the keyed chain only ever follows a sealed legacy prefix; stop the writers before migrating."""
    _seal_legacy_v2(schema)
    for old, new in (("prev_hash", "prev_mac"), ("hash", "mac")):
        op.alter_column("audit_log", old, type_=sa.String(length=100), schema=schema)
        op.alter_column("audit_log", old, new_column_name=new, schema=schema)
    op.add_column("audit_log", sa.Column("entry_id", sa.Uuid(), nullable=True), schema=schema)
    op.add_column("audit_log", sa.Column("entry_mac", sa.String(length=100), nullable=True), schema=schema)
    op.create_unique_constraint(op.f("uq_audit_log_entry_id"), "audit_log", ["entry_id"], schema=schema)
    op.execute(_AUDIT_APPEND_ONLY_V2.format(schema=schema))
    op.execute(_AUDIT_NO_TRUNCATE_TRIGGER_V2.format(schema=schema))


def downgrade_audit_log_v2(schema: str) -> None:
    """Back to the hash columns (keeping their width: keyed MACs are longer than a hash)."""
    op.execute(f"DROP TRIGGER audit_log_no_truncate ON {schema}.audit_log")
    op.execute(_AUDIT_APPEND_ONLY_V1.format(schema=schema))
    op.drop_constraint(op.f("uq_audit_log_entry_id"), "audit_log", schema=schema, type_="unique")
    op.drop_column("audit_log", "entry_mac", schema=schema)
    op.drop_column("audit_log", "entry_id", schema=schema)
    for old, new in (("prev_hash", "prev_mac"), ("hash", "mac")):
        op.alter_column("audit_log", new, new_column_name=old, schema=schema)


def _seal_legacy_v2(schema: str) -> None:
    content = ("actor", "actor_kind", "action", "record_type", "record_id", "division_code")
    audit_log = sa.table(
        "audit_log",
        sa.column("seq", sa.BigInteger()),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        *(sa.column(name, sa.String()) for name in (*content, "source_address", "request_id")),
        sa.column("details", postgresql.JSONB()),
        sa.column("chain_seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
        schema=schema,
    )
    bind = op.get_bind()
    last = bind.execute(
        sa.select(audit_log.c.chain_seq, audit_log.c.hash)
        .where(audit_log.c.chain_seq.is_not(None))
        .order_by(audit_log.c.chain_seq.desc())
        .limit(1)
    ).first()
    chain_seq, prev = (last[0], last[1]) if last else (0, "0" * 64)
    rows = bind.execute(
        sa.select(audit_log).where(audit_log.c.chain_seq.is_(None)).order_by(audit_log.c.seq)
    ).mappings()
    seals = []
    for row in rows:
        chain_seq += 1
        digest = legacy_hash(prev, chain_seq, row)
        seals.append({"b_seq": row["seq"], "chain_seq": chain_seq, "prev_hash": prev, "hash": digest})
        prev = digest
    if seals:
        bind.execute(
            audit_log.update()
            .where(audit_log.c.seq == sa.bindparam("b_seq"))
            .values(
                chain_seq=sa.bindparam("chain_seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            seals,
        )


def create_rectification_tables_v1(schema: str) -> None:
    """Findings, rectifications, reports, rechecks, steps, reminders and evidence files."""
    op.create_table(
        "evidence_file",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_evidence_file_storage_key")),
        schema=schema,
    )
    op.create_table(
        "finding",
        sa.Column(
            "origin_kind",
            sa.Enum(
                "supervision",
                "visit",
                "evaluation",
                name="originkind",
                native_enum=False,
                length=20,
                schema=schema,
            ),
            nullable=False,
        ),
        sa.Column("origin_ref", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "minor",
                "major",
                "serious",
                name="severity",
                native_enum=False,
                length=10,
                schema=schema,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column(
            "unit_kind",
            sa.Enum(
                "school",
                "government",
                "department",
                name="unitkind",
                native_enum=False,
                length=20,
                schema=schema,
            ),
            nullable=False,
        ),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding")),
        schema=schema,
    )
    op.create_table(
        "rectification",
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column(
            "deadline_kind",
            sa.Enum("calendar", "working", name="deadlinekind", native_enum=False, length=10, schema=schema),
            nullable=False,
        ),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("provisional_deadline", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "submitted",
                "closed",
                name="rectificationstatus",
                native_enum=False,
                length=10,
                schema=schema,
            ),
            nullable=False,
        ),
        sa.Column("overdue_deadline", sa.Date(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_step_kind", sa.String(length=40), nullable=True),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("deadline_days > 0", name=op.f("ck_rectification_deadline_days_positive")),
        sa.ForeignKeyConstraint(
            ["finding_id"], [f"{schema}.finding.id"], name=op.f("fk_rectification_finding_id_finding")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_rectification_finding_id")),
        schema=schema,
    )
    op.create_index(
        "ix_rectification_division_code",
        "rectification",
        ["division_code"],
        unique=False,
        schema=schema,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_rectification_due", "rectification", ["status", "deadline"], unique=False, schema=schema
    )
    op.create_index("ix_rectification_unit_id", "rectification", ["unit_id"], unique=False, schema=schema)
    op.create_table(
        "rectification_recheck",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "confirmed",
                "reopened",
                name="recheckresult",
                native_enum=False,
                length=10,
                schema=schema,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            [f"{schema}.rectification.id"],
            name=op.f("fk_rectification_recheck_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_recheck")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_rectification_recheck_rectification_id"),
        "rectification_recheck",
        ["rectification_id"],
        unique=False,
        schema=schema,
    )
    op.create_table(
        "rectification_reminder",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            [f"{schema}.rectification.id"],
            name=op.f("fk_rectification_reminder_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint(
            "rectification_id", "deadline", "days_before", name=op.f("pk_rectification_reminder")
        ),
        schema=schema,
    )
    op.create_table(
        "rectification_report",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "accepted",
                "rejected",
                name="reportdecision",
                native_enum=False,
                length=10,
                schema=schema,
            ),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reasons", sa.Text(), nullable=True),
        sa.Column("reply_due", sa.Date(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            [f"{schema}.rectification.id"],
            name=op.f("fk_rectification_report_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_report")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_rectification_report_rectification_id"),
        "rectification_report",
        ["rectification_id"],
        unique=False,
        schema=schema,
    )
    op.create_table(
        "rectification_step",
        sa.Column("rectification_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.Uuid(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("document_number", sa.String(length=60), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            [f"{schema}.rectification.id"],
            name=op.f("fk_rectification_step_rectification_id_rectification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_step")),
        sa.UniqueConstraint("step_id", name=op.f("uq_rectification_step_step_id")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_rectification_step_rectification_id"),
        "rectification_step",
        ["rectification_id"],
        unique=False,
        schema=schema,
    )


def drop_rectification_tables_v1(schema: str) -> None:
    op.drop_index(
        op.f("ix_rectification_step_rectification_id"), table_name="rectification_step", schema=schema
    )
    op.drop_table("rectification_step", schema=schema)
    op.drop_index(
        op.f("ix_rectification_report_rectification_id"),
        table_name="rectification_report",
        schema=schema,
    )
    op.drop_table("rectification_report", schema=schema)
    op.drop_table("rectification_reminder", schema=schema)
    op.drop_index(
        op.f("ix_rectification_recheck_rectification_id"),
        table_name="rectification_recheck",
        schema=schema,
    )
    op.drop_table("rectification_recheck", schema=schema)
    op.drop_index("ix_rectification_unit_id", table_name="rectification", schema=schema)
    op.drop_index("ix_rectification_due", table_name="rectification", schema=schema)
    op.drop_index(
        "ix_rectification_division_code",
        table_name="rectification",
        schema=schema,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("rectification", schema=schema)
    op.drop_table("finding", schema=schema)
    op.drop_table("evidence_file", schema=schema)


def create_numbering_tables_v1(schema: str) -> None:
    """Document numbering: the gapless sequences and the issuing offices projected from governance."""
    op.create_table(
        "document_sequence",
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_serial >= 1", name=op.f("ck_document_sequence_last_serial_positive")),
        sa.PrimaryKeyConstraint("office_division", "kind", "year", name=op.f("pk_document_sequence")),
        schema=schema,
    )
    op.create_table(
        "issuing_office",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("abbreviation", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 0", name=op.f("ck_issuing_office_version_not_negative")),
        sa.PrimaryKeyConstraint("division_code", name=op.f("pk_issuing_office")),
        schema=schema,
    )


def drop_numbering_tables_v1(schema: str) -> None:
    op.drop_table("issuing_office", schema=schema)
    op.drop_table("document_sequence", schema=schema)


def _enum(schema: str, name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=schema)


def create_supervision_tables_v1(schema: str) -> None:
    """Supervisions, their units, teams and hearings, and the projection of inspectors they check."""
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "supervision",
        sa.Column(
            "kind",
            _enum(
                schema,
                "supervisionkind",
                20,
                "comprehensive",
                "special",
                "emergency",
                "random",
                "unannounced",
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("ref", sa.String(length=100), nullable=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("checklist", jsonb, nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            _enum(
                schema,
                "supervisionstatus",
                30,
                "planned",
                "notified",
                "self_evaluation",
                "on_site",
                "preliminary_opinion",
                "feedback",
                "opinion_issued",
                "reported",
                "published",
            ),
            nullable=False,
        ),
        sa.Column("notice_text", sa.Text(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("on_site_on", sa.Date(), nullable=True),
        sa.Column("preliminary_opinion", sa.Text(), nullable=True),
        sa.Column("preliminary_items", jsonb, nullable=False),
        sa.Column("feedback_mode", _enum(schema, "feedbackmode", 10, "meeting", "written"), nullable=True),
        sa.Column("feedback_on", sa.Date(), nullable=True),
        sa.Column("feedback_text", sa.Text(), nullable=True),
        sa.Column("feedback_attendance", jsonb, nullable=False),
        sa.Column("reply_due", sa.Date(), nullable=True),
        sa.Column("opinion_number", sa.String(length=60), nullable=True),
        sa.Column("opinion_text", sa.Text(), nullable=True),
        sa.Column("opinion_issued_on", sa.Date(), nullable=True),
        sa.Column("report_title", sa.String(length=200), nullable=True),
        sa.Column("report_text", sa.Text(), nullable=True),
        sa.Column("report_approved_by", sa.String(length=200), nullable=True),
        sa.Column("report_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_supervision_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision")),
        schema=schema,
    )
    op.create_index(
        "ix_supervision_division_code",
        "supervision",
        ["division_code"],
        unique=False,
        schema=schema,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index("ix_supervision_updated_at", "supervision", ["updated_at", "id"], schema=schema)
    op.create_index(
        "ix_supervision_published",
        "supervision",
        ["published_at"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_table(
        "supervision_unit",
        sa.Column("supervision_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column(
            "unit_kind", _enum(schema, "unitkind", 20, "school", "government", "department"), nullable=False
        ),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("self_evaluation", sa.Text(), nullable=True),
        sa.Column("self_evaluation_evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("self_evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            [f"{schema}.supervision.id"],
            name=op.f("fk_supervision_unit_supervision_id_supervision"),
        ),
        sa.PrimaryKeyConstraint("supervision_id", "unit_id", name=op.f("pk_supervision_unit")),
        schema=schema,
    )
    op.create_index("ix_supervision_unit_unit_id", "supervision_unit", ["unit_id"], schema=schema)
    op.create_table(
        "supervision_team_member",
        sa.Column("supervision_id", sa.Uuid(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", _enum(schema, "teamrole", 10, "leader", "member"), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            [f"{schema}.supervision.id"],
            name=op.f("fk_supervision_team_member_supervision_id_supervision"),
        ),
        sa.PrimaryKeyConstraint("supervision_id", "inspector_id", name=op.f("pk_supervision_team_member")),
        schema=schema,
    )
    op.create_table(
        "supervision_hearing",
        sa.Column("supervision_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column(
            "heard_group", _enum(schema, "heardgroup", 10, "pupils", "parents", "teachers"), nullable=False
        ),
        sa.Column("heard_count", sa.Integer(), nullable=False),
        sa.Column("heard_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("heard_count > 0", name=op.f("ck_supervision_hearing_heard_count_positive")),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            [f"{schema}.supervision.id"],
            name=op.f("fk_supervision_hearing_supervision_id_supervision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_hearing")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_supervision_hearing_supervision_id"),
        "supervision_hearing",
        ["supervision_id"],
        schema=schema,
    )
    op.create_table(
        "supervision_inspector",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("employment", sa.String(length=20), nullable=False),
        sa.Column("appointed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("inspector_id", name=op.f("pk_supervision_inspector")),
        schema=schema,
    )
    op.create_table(
        "supervision_inspector_term",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("inspector_id", "sequence", name=op.f("pk_supervision_inspector_term")),
        schema=schema,
    )
    op.create_table(
        "supervision_inspector_training",
        sa.Column("training_id", sa.Uuid(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("training_id", name=op.f("pk_supervision_inspector_training")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_supervision_inspector_training_inspector_id"),
        "supervision_inspector_training",
        ["inspector_id"],
        schema=schema,
    )
    op.create_table(
        "supervision_inspector_tie",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("inspector_id", "unit_id", name=op.f("pk_supervision_inspector_tie")),
        schema=schema,
    )
    op.create_table(
        "supervision_inspector_ended",
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("inspector_id", name=op.f("pk_supervision_inspector_ended")),
        schema=schema,
    )


def drop_supervision_tables_v1(schema: str) -> None:
    for name in (
        "supervision_inspector_ended",
        "supervision_inspector_tie",
        "supervision_inspector_training",
        "supervision_inspector_term",
        "supervision_inspector",
        "supervision_hearing",
        "supervision_team_member",
        "supervision_unit",
        "supervision",
    ):
        op.drop_table(name, schema=schema)  # their indexes go with them
