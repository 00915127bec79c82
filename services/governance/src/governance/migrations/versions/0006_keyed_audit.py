"""keyed audit chain: entry ids and entry MACs, MACs for hashes, TRUNCATE refused (dudao.audit)

Revision ID: 0006_keyed_audit
Revises: 0005_kit_retention
"""

from collections.abc import Sequence

from dudao.kit_migrations import downgrade_audit_log_v2, upgrade_audit_log_v2

revision: str = "0006_keyed_audit"
down_revision: str | None = "0005_kit_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_audit_log_v2("governance")


def downgrade() -> None:
    downgrade_audit_log_v2("governance")
