"""initial

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

from dudao.kit_migrations import create_kit_tables_v1, drop_kit_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables_v1("governance")


def downgrade() -> None:
    drop_kit_tables_v1("governance")
