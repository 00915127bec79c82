"""rectification

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from dudao.kit_migrations import create_rectification_tables_v1, drop_rectification_tables_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_rectification_tables_v1("inspection")


def downgrade() -> None:
    drop_rectification_tables_v1("inspection")
