"""principals', inspectors' and plates' phones and e-mails sealed at rest (dudao.encryption)

The plaintext columns give way to sealed ones; the rows already there are sealed here, in Python, with
the field encryption key of the settings the service starts with (``DUDAO_FIELD_ENCRYPTION_KEY``).

Revision ID: 0011_sealed_contacts
Revises: 0010_keyed_audit
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dudao.config import Settings
from dudao.encryption import field_cipher

revision: str = "0011_sealed_contacts"
down_revision: str | None = "0010_keyed_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "inspection"
# (table, plaintext column, its type): each gives way to ``<column>_sealed``, sealed with the context the
# service opens it with, ``inspection.<table>.<column>``.
COLUMNS = [
    ("inspector", "contact_phone", sa.String(40)),
    ("inspector", "contact_email", sa.String(200)),
    ("school", "principal_phone", sa.String(30)),
    ("plate", "contact_phone", sa.String(30)),
]
# The checks that name the plaintext columns: (table, name, with the plaintext, with the sealed)
CHECKS = [
    (
        "school",
        "ck_school_principal_named",
        "principal_phone IS NULL OR principal_name IS NOT NULL",
        "principal_phone_sealed IS NULL OR principal_name IS NOT NULL",
    ),
    (
        "plate",
        "ck_plate_inspector_whole",
        "num_nulls(inspector_name, photo_url, contact_phone) IN (0, 3)",
        "num_nulls(inspector_name, photo_url, contact_phone_sealed) IN (0, 3)",
    ),
]


def _convert(table: str, column: str, *, seal: bool) -> None:
    """The sealed column of every row from its plaintext, or back, in one statement; the key is read
    only if rows need it."""
    source, target = (column, f"{column}_sealed") if seal else (f"{column}_sealed", column)
    context = f"{SCHEMA}.{table}.{column}"
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT id, {source} FROM {SCHEMA}.{table} WHERE {source} IS NOT NULL")  # noqa: S608
    ).all()
    if not rows:
        return
    cipher = field_cipher(Settings.for_service("school-inspection"))
    bind.execute(
        sa.text(
            f"UPDATE {SCHEMA}.{table} AS t SET {target} = v.value "  # noqa: S608 (names of this migration)
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:values AS text[])) AS v(id, value) WHERE t.id = v.id"
        ),
        {
            "ids": [r[0] for r in rows],
            "values": [
                cipher.encrypt(r[1], context=context) if seal else cipher.decrypt(r[1], context=context)
                for r in rows
            ],
        },
    )


def upgrade() -> None:
    for table, column, _type in COLUMNS:
        op.add_column(table, sa.Column(f"{column}_sealed", sa.Text(), nullable=True), schema=SCHEMA)
        _convert(table, column, seal=True)
    op.alter_column("inspector", "contact_phone_sealed", nullable=False, schema=SCHEMA)
    for table, name, _plain, _sealed in CHECKS:
        op.drop_constraint(op.f(name), table, schema=SCHEMA)
    for table, column, _type in COLUMNS:
        op.drop_column(table, column, schema=SCHEMA)
    for table, name, _plain, sealed_check in CHECKS:
        op.create_check_constraint(op.f(name), table, sealed_check, schema=SCHEMA)


def downgrade() -> None:
    for table, column, type_ in COLUMNS:
        op.add_column(table, sa.Column(column, type_, nullable=True), schema=SCHEMA)
        _convert(table, column, seal=False)
    op.alter_column("inspector", "contact_phone", nullable=False, schema=SCHEMA)
    for table, name, _plain, _sealed in CHECKS:
        op.drop_constraint(op.f(name), table, schema=SCHEMA)
    for table, column, _type in COLUMNS:
        op.drop_column(table, f"{column}_sealed", schema=SCHEMA)
    for table, name, plain_check, _sealed in CHECKS:
        op.create_check_constraint(op.f(name), table, plain_check, schema=SCHEMA)
