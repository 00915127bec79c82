"""supervision procedure

Revision ID: 0006_supervision
Revises: 0005
"""

from collections.abc import Sequence

from dudao.kit_migrations import create_supervision_tables_v1, drop_supervision_tables_v1

revision: str = "0006_supervision"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_supervision_tables_v1("inspection")


def downgrade() -> None:
    drop_supervision_tables_v1("inspection")
