"""early warning (rules, alerts; the default rules and cross-checks) and satisfaction surveys

Revision ID: 0003_warning
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dudao.ids import derived_id

revision: str = "0003_warning"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "monitoring"
AMOUNT = sa.Numeric(18, 4)


def _enum(name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def _rule(code: str, name: str, kind: str, expression: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "kind": kind, "expression": expression, **fields}


# The region's defaults, kept as data: offices switch them off or add their own. Cross-checks of data that
# contradicts itself (or the school registry), and the usual warnings over the 2017 system's base elements.
DEFAULT_RULES = [
    _rule(
        "cross.qualified-teachers-exceed-pupils",
        "高于规定学历教师数多于在校生数",
        "consistency",
        "teachers_above_qualification",
        operator="le",
        right_expression="pupils",
        severity="minor",
    ),
    _rule(
        "cross.pe-arts-teachers-exceed-teachers",
        "体育艺术专任教师数多于专任教师总数",
        "consistency",
        "pe_arts_teachers",
        operator="le",
        right_expression="teachers",
        severity="minor",
    ),
    _rule(
        "cross.qualified-exceed-teachers",
        "高于规定学历教师数多于专任教师总数",
        "consistency",
        "teachers_above_qualification",
        operator="le",
        right_expression="teachers",
        severity="minor",
    ),
    _rule(
        "cross.teachers-per-pupil-impossible",
        "每百名学生高于规定学历教师数不可能（超过50人）",
        "threshold",
        "teachers_above_qualification / pupils * 100",
        operator="gt",
        bound=Decimal(50),
        severity="minor",
    ),
    _rule(
        "cross.negative-teaching-floor-area",
        "教学及辅助用房面积为负",
        "threshold",
        "teaching_floor_area",
        operator="lt",
        bound=Decimal(0),
        severity="minor",
    ),
    _rule(
        "cross.negative-sports-ground-area",
        "体育运动场馆面积为负",
        "threshold",
        "sports_ground_area",
        operator="lt",
        bound=Decimal(0),
        severity="minor",
    ),
    _rule(
        "cross.negative-equipment-value",
        "教学仪器设备值为负",
        "threshold",
        "equipment_value",
        operator="lt",
        bound=Decimal(0),
        severity="minor",
    ),
    _rule(
        "cross.enrolment-differs-from-registry",
        "填报在校生数与学籍登记相差超过5%",
        "registry",
        "pupils",
        bound=Decimal("0.05"),
        severity="minor",
    ),
    _rule(
        "warn.pupils-fell",
        "在校生数比上年减少30%以上",
        "change",
        "pupils",
        operator="lt",
        bound=Decimal("-0.3"),
        change_mode="relative",
        severity="major",
    ),
    _rule(
        "warn.equipment-per-pupil-outlier",
        "生均教学仪器设备值偏离本县加权均值3个标准差以上",
        "outlier",
        "equipment_value / pupils",
        bound=Decimal(3),
        outlier_method="sigma",
        severity="minor",
    ),
    _rule(
        "warn.floor-area-per-pupil-outlier",
        "生均教学及辅助用房面积在本县四分位距3倍之外",
        "outlier",
        "teaching_floor_area / pupils",
        bound=Decimal(3),
        outlier_method="iqr",
        severity="minor",
    ),
]


def upgrade() -> None:
    rule = op.create_table(
        "warning_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("system_key", sa.String(length=60), nullable=False),
        sa.Column("unit_kind", _enum("unitkind", 10, "school", "county"), nullable=False),
        sa.Column(
            "kind",
            _enum("rulekind", 20, "threshold", "change", "outlier", "consistency", "registry"),
            nullable=False,
        ),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("operator", _enum("operator", 2, "lt", "le", "gt", "ge", "eq", "ne"), nullable=True),
        sa.Column("bound", AMOUNT, nullable=True),
        sa.Column("right_expression", sa.Text(), nullable=True),
        sa.Column("change_mode", _enum("changemode", 10, "relative", "absolute"), nullable=True),
        sa.Column("outlier_method", _enum("outliermethod", 10, "sigma", "iqr"), nullable=True),
        sa.Column("severity", _enum("severity", 10, "minor", "major", "serious"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind IN ('threshold', 'change', 'consistency')) = (operator IS NOT NULL)",
            name=op.f("ck_warning_rule_operator_iff_compared"),
        ),
        sa.CheckConstraint(
            "(kind = 'consistency') = (right_expression IS NOT NULL)",
            name=op.f("ck_warning_rule_right_iff_consistency"),
        ),
        sa.CheckConstraint(
            "(kind = 'change') = (change_mode IS NOT NULL)", name=op.f("ck_warning_rule_mode_iff_change")
        ),
        sa.CheckConstraint(
            "(kind = 'outlier') = (outlier_method IS NOT NULL)",
            name=op.f("ck_warning_rule_method_iff_outlier"),
        ),
        sa.CheckConstraint(
            "(kind = 'consistency') = (bound IS NULL)", name=op.f("ck_warning_rule_bound_unless_consistency")
        ),
        sa.CheckConstraint(
            "kind NOT IN ('outlier', 'registry') OR bound > 0", name=op.f("ck_warning_rule_bound_positive")
        ),
        sa.CheckConstraint(
            "kind <> 'registry' OR unit_kind = 'school'", name=op.f("ck_warning_rule_registry_of_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_warning_rule_code")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_warning_rule_division_code",
        "warning_rule",
        ["division_code"],
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index("ix_warning_rule_updated_at", "warning_rule", ["updated_at", "id"], schema=SCHEMA)

    op.create_table(
        "warning_alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("system_id", sa.Uuid(), nullable=False),
        sa.Column("unit_kind", _enum("unitkind", 10, "school", "county"), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("observed", AMOUNT, nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", _enum("alertstatus", 20, "open", "finding_raised", "dismissed"), nullable=False),
        sa.Column("dismissal_reason", sa.Text(), nullable=True),
        sa.Column("rectification_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'dismissed') = (dismissal_reason IS NOT NULL)",
            name=op.f("ck_warning_alert_reason_iff_dismissed"),
        ),
        sa.CheckConstraint(
            "(status = 'finding_raised') = (rectification_id IS NOT NULL)",
            name=op.f("ck_warning_alert_rectification_iff_raised"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)", name=op.f("ck_warning_alert_decided_unless_open")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], [f"{SCHEMA}.warning_rule.id"], name=op.f("fk_warning_alert_rule_id_warning_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_alert")),
        sa.UniqueConstraint(
            "rule_id",
            "unit_kind",
            "unit_id",
            "year",
            "period",
            name=op.f("uq_warning_alert_rule_id_unit_kind_unit_id_year_period"),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_warning_alert_division_code",
        "warning_alert",
        ["division_code"],
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index("ix_warning_alert_updated_at", "warning_alert", ["updated_at", "id"], schema=SCHEMA)

    audience = ("parents", "teachers", "pupils")
    op.create_table(
        "survey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("audience", _enum("audience", 10, *audience), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", _enum("surveystatus", 10, "open", "closed"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_survey_year_in_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_survey_division_code",
        "survey",
        ["division_code"],
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index("ix_survey_updated_at", "survey", ["updated_at", "id"], schema=SCHEMA)

    op.create_table(
        "survey_link",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], [f"{SCHEMA}.survey.id"], name=op.f("fk_survey_link_survey_id_survey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_link_token_hash")),
        schema=SCHEMA,
    )
    op.create_index("ix_survey_link_survey_id", "survey_link", ["survey_id"], schema=SCHEMA)

    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("audience", _enum("audience", 10, *audience), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rated", sa.SmallInteger(), nullable=False),
        sa.Column("satisfied", sa.SmallInteger(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "satisfied BETWEEN 0 AND rated", name=op.f("ck_survey_answer_satisfied_within_rated")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], [f"{SCHEMA}.survey.id"], name=op.f("fk_survey_answer_survey_id_survey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
        schema=SCHEMA,
    )
    op.create_index("ix_survey_answer_survey_id", "survey_answer", ["survey_id"], schema=SCHEMA)
    op.create_index(
        "ix_survey_answer_division_code_year", "survey_answer", ["division_code", "year"], schema=SCHEMA
    )

    op.create_table(
        "survey_client_window",
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_key", "window_start", name=op.f("pk_survey_client_window")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_survey_client_window_window_start", "survey_client_window", ["window_start"], schema=SCHEMA
    )

    seeded_at = datetime(2026, 1, 1, tzinfo=UTC)
    blank = {
        "operator": None,
        "bound": None,
        "right_expression": None,
        "change_mode": None,
        "outlier_method": None,
    }
    op.bulk_insert(
        rule,
        [
            {
                **blank,
                **r,
                # Derived from the code: the same seeded rule has the same id in every deployment.
                "id": derived_id("warning_rule", r["code"]),
                "division_code": "450000",
                "system_key": "balanced-2017",
                "unit_kind": "school",
                "active": True,
                "version": 1,
                "created_by": "seed",
                "created_at": seeded_at,
                "updated_at": seeded_at,
            }
            for r in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_table("survey_client_window", schema=SCHEMA)
    op.drop_table("survey_answer", schema=SCHEMA)
    op.drop_table("survey_link", schema=SCHEMA)
    op.drop_table("survey", schema=SCHEMA)
    op.drop_table("warning_alert", schema=SCHEMA)
    op.drop_table("warning_rule", schema=SCHEMA)
