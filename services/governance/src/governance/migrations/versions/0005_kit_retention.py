"""retention: indexes by which the worker prunes the kit's outbox, inbox, dead letters and idempotency keys

Revision ID: 0005_kit_retention
Revises: 0004
"""

from collections.abc import Sequence

from dudao.kit_migrations import create_kit_retention_indexes_v1, drop_kit_retention_indexes_v1

revision: str = "0005_kit_retention"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_retention_indexes_v1("governance")


def downgrade() -> None:
    drop_kit_retention_indexes_v1("governance")
