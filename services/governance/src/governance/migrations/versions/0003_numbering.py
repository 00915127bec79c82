"""numbering: document sequences and issuing offices (the kit's), for the supervision opinions

Revision ID: 0003_numbering
Revises: 0002
"""

from collections.abc import Sequence

from dudao.kit_migrations import create_numbering_tables_v1, drop_numbering_tables_v1

revision: str = "0003_numbering"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_numbering_tables_v1("governance")


def downgrade() -> None:
    drop_numbering_tables_v1("governance")
