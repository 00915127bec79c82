"""visits, the routine-visit policy and its facts, double-random draws, comprehensive supervision cycles

Revision ID: 0003_visits
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dudao.ids import uuid7

revision: str = "0003_visits"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comprehensive_cycle",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("years > 0", name=op.f("ck_comprehensive_cycle_years_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comprehensive_cycle")),
        sa.UniqueConstraint(
            "division_code", "start_year", name=op.f("uq_comprehensive_cycle_division_code_start_year")
        ),
        schema="inspection",
    )
    op.create_index(
        "ix_comprehensive_cycle_division_code",
        "comprehensive_cycle",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "random_draw",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("school_types", sa.ARRAY(sa.String(length=30)), nullable=True),
        sa.Column("school_count", sa.Integer(), nullable=False),
        sa.Column("inspector_count", sa.Integer(), nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("school_pool", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("inspector_pool", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("excluded_pairs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "committed",
                "revealed",
                "void",
                name="drawstatus",
                native_enum=False,
                length=10,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("seed", sa.Text(), nullable=True),
        sa.Column("drawn_school_ids", sa.ARRAY(sa.Uuid()), nullable=True),
        sa.Column("drawn_inspector_ids", sa.ARRAY(sa.Uuid()), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("committed_by", sa.String(length=200), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revealed_by", sa.String(length=200), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(status = 'committed') = (seed IS NULL)", name=op.f("ck_random_draw_seed_once_revealed")
        ),
        sa.CheckConstraint(
            "school_count > 0 AND inspector_count > 0", name=op.f("ck_random_draw_counts_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_random_draw")),
        schema="inspection",
    )
    op.create_index(
        "ix_random_draw_division_code",
        "random_draw",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    policy = op.create_table(
        "visit_policy",
        sa.Column("division_prefix", sa.String(length=6), nullable=False),
        sa.Column("routine_visits_per_semester", sa.Integer(), nullable=False),
        sa.Column("spring_start_month", sa.Integer(), nullable=False),
        sa.Column("spring_start_day", sa.Integer(), nullable=False),
        sa.Column("autumn_start_month", sa.Integer(), nullable=False),
        sa.Column("autumn_start_day", sa.Integer(), nullable=False),
        sa.Column("comprehensive_cycle_years", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "routine_visits_per_semester > 0 AND comprehensive_cycle_years > 0 "
            "AND (spring_start_month, spring_start_day) < (autumn_start_month, autumn_start_day)",
            name=op.f("ck_visit_policy_policy_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_policy")),
        sa.UniqueConstraint("division_prefix", name=op.f("uq_visit_policy_division_prefix")),
        schema="inspection",
    )
    op.create_table(
        "comprehensive_cycle_school",
        sa.Column("cycle_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("planned_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["inspection.comprehensive_cycle.id"],
            name=op.f("fk_comprehensive_cycle_school_cycle_id_comprehensive_cycle"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["inspection.school.id"],
            name=op.f("fk_comprehensive_cycle_school_school_id_school"),
        ),
        sa.PrimaryKeyConstraint("cycle_id", "school_id", name=op.f("pk_comprehensive_cycle_school")),
        schema="inspection",
    )
    op.create_index(
        "ix_comprehensive_cycle_school_school_id",
        "comprehensive_cycle_school",
        ["school_id"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "visit",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "routine",
                "special",
                "random",
                "emergency",
                name="visitkind",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("comprehensive", sa.Boolean(), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("position_accuracy_m", sa.Double(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "NOT comprehensive OR kind = 'special'", name=op.f("ck_visit_comprehensive_is_special")
        ),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_visit_position_whole")),
        sa.CheckConstraint("ended_at > started_at", name=op.f("ck_visit_ends_after_start")),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180",
            name=op.f("ck_visit_position_range"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_visit_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        schema="inspection",
    )
    op.create_index(
        "ix_visit_division_code",
        "visit",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_visit_school_kind_started",
        "visit",
        ["school_id", "kind", "started_at"],
        unique=False,
        schema="inspection",
    )
    op.create_index("ix_visit_updated_at", "visit", ["updated_at", "id"], unique=False, schema="inspection")
    op.create_table(
        "visits_behind",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("semester", sa.String(length=20), nullable=False),
        sa.Column(
            "checkpoint",
            sa.Enum("midpoint", "end", name="checkpoint", native_enum=False, length=10, schema="inspection"),
            nullable=False,
        ),
        sa.Column("semester_start", sa.Date(), nullable=False),
        sa.Column("semester_end", sa.Date(), nullable=False),
        sa.Column("checkpoint_date", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["inspection.school.id"], name=op.f("fk_visits_behind_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits_behind")),
        sa.UniqueConstraint(
            "school_id", "semester", "checkpoint", name=op.f("uq_visits_behind_school_id_semester_checkpoint")
        ),
        schema="inspection",
    )
    op.create_index(
        "ix_visits_behind_division_code",
        "visits_behind",
        ["division_code"],
        unique=False,
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "visit_inspector",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["inspection.visit.id"], name=op.f("fk_visit_inspector_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("visit_id", "inspector_id", name=op.f("pk_visit_inspector")),
        schema="inspection",
    )
    op.create_index(
        "ix_visit_inspector_inspector_id",
        "visit_inspector",
        ["inspector_id"],
        unique=False,
        schema="inspection",
    )
    op.create_table(
        "visit_item",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column(
            "item",
            sa.Enum(
                "administration",
                "enrolment_fees",
                "curriculum",
                "pupil_workload",
                "teacher_ethics",
                "campus_safety",
                "hygiene",
                "school_ethos",
                name="routineitem",
                native_enum=False,
                length=30,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "satisfactory",
                "problem_found",
                name="observation",
                native_enum=False,
                length=20,
                schema="inspection",
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("rectification_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["inspection.visit.id"], name=op.f("fk_visit_item_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("visit_id", "item", name=op.f("pk_visit_item")),
        schema="inspection",
    )
    # Everywhere, unless a jurisdiction sets its own: 2 routine visits a semester (《教育督导条例》),
    # spring from 1 February, autumn from 1 August, a comprehensive supervision every 5 years (Guangxi).
    op.execute(
        policy.insert().values(
            id=uuid7(),
            division_prefix="",
            routine_visits_per_semester=2,
            spring_start_month=2,
            spring_start_day=1,
            autumn_start_month=8,
            autumn_start_day=1,
            comprehensive_cycle_years=5,
            version=1,
            updated_by="migration",
            updated_at=sa.func.now(),
        )
    )


def downgrade() -> None:
    op.drop_table("visit_item", schema="inspection")
    op.drop_index("ix_visit_inspector_inspector_id", table_name="visit_inspector", schema="inspection")
    op.drop_table("visit_inspector", schema="inspection")
    op.drop_index(
        "ix_visits_behind_division_code",
        table_name="visits_behind",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("visits_behind", schema="inspection")
    op.drop_index("ix_visit_updated_at", table_name="visit", schema="inspection")
    op.drop_index("ix_visit_school_kind_started", table_name="visit", schema="inspection")
    op.drop_index(
        "ix_visit_division_code",
        table_name="visit",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("visit", schema="inspection")
    op.drop_index(
        "ix_comprehensive_cycle_school_school_id",
        table_name="comprehensive_cycle_school",
        schema="inspection",
    )
    op.drop_table("comprehensive_cycle_school", schema="inspection")
    op.drop_table("visit_policy", schema="inspection")
    op.drop_index(
        "ix_random_draw_division_code",
        table_name="random_draw",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("random_draw", schema="inspection")
    op.drop_index(
        "ix_comprehensive_cycle_division_code",
        table_name="comprehensive_cycle",
        schema="inspection",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.drop_table("comprehensive_cycle", schema="inspection")
