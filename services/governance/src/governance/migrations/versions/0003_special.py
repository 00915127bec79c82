"""special and emergency supervision, dropout control

Revision ID: 0003_special
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_special"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The hot topics of 二(三), seeded with their checklists; offices add their own beside them.
SEEDED_TOPICS = [
    {
        "code": "workload",
        "name": "中小学生和教师减负",
        "description": "落实中小学生减负措施和教师减负清单，规范作业、考试、竞赛和进校园活动。",
        "checklist": [
            {"code": "W1", "text": "作业总量和时长控制、分层布置情况"},
            {"code": "W2", "text": "考试次数、成绩公布和排名情况"},
            {"code": "W3", "text": "睡眠、体育锻炼和课后服务保障情况"},
            {"code": "W4", "text": "督查检查评比考核和进校园活动清理情况"},
            {"code": "W5", "text": "教师非教学任务和报表填报负担情况"},
        ],
    },
    {
        "code": "paid_tutoring",
        "name": "在职中小学教师违规有偿补课",
        "description": "查处在职教师有偿补课、诱导学生参加校外培训等行为。",
        "checklist": [
            {"code": "T1", "text": "禁止有偿补课规定的宣传和承诺签订情况"},
            {"code": "T2", "text": "举报渠道畅通和线索查处情况"},
            {"code": "T3", "text": "教师在校外培训机构兼职取酬排查情况"},
            {"code": "T4", "text": "师德考核和违规处理情况"},
        ],
    },
    {
        "code": "private_admission_fees",
        "name": "民办学校招生和收费",
        "description": "规范民办义务教育学校招生和收费，落实公民同招和收费公示。",
        "checklist": [
            {"code": "P1", "text": "公民同招、电脑随机录取执行情况"},
            {"code": "P2", "text": "招生简章和广告备案、虚假宣传情况"},
            {"code": "P3", "text": "收费项目和标准公示、备案情况"},
            {"code": "P4", "text": "违规收取与入学挂钩费用情况"},
        ],
    },
    {
        "code": "off_campus_training",
        "name": "校外培训机构规范",
        "description": "校外培训机构的审批登记、培训内容、收费和资金监管、从业人员资质。",
        "checklist": [
            {"code": "O1", "text": "办学许可、登记和信息公示情况"},
            {"code": "O2", "text": "学科类培训内容、时间和超前超标培训情况"},
            {"code": "O3", "text": "预收费资金监管和退费情况"},
            {"code": "O4", "text": "从业人员资质和背景审查情况"},
            {"code": "O5", "text": "消防、场地等安全条件情况"},
        ],
    },
    {
        "code": "pupil_safety",
        "name": "学生安全",
        "description": "校园安全管理、校车和交通、防溺水、食品安全、欺凌防治和心理健康。",
        "checklist": [
            {"code": "S1", "text": "安全责任体系和应急预案、演练情况"},
            {"code": "S2", "text": "校舍、消防和安防设施情况"},
            {"code": "S3", "text": "校车、上下学交通和防溺水教育情况"},
            {"code": "S4", "text": "食堂食品安全和卫生情况"},
            {"code": "S5", "text": "学生欺凌防治和心理健康教育情况"},
        ],
    },
]

# Fixed ids, so that every deployment names a seeded topic alike.
_SEEDED_IDS = [UUID(f"01900000-0000-7000-8000-00000000000{n}") for n in range(1, len(SEEDED_TOPICS) + 1)]
_SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "dropout_pupil",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name_sealed", sa.Text(), nullable=False),
        sa.Column("id_number_sealed", sa.Text(), nullable=False),
        sa.Column("id_number_index", sa.String(length=64), nullable=False),
        sa.Column("school_name", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "learning_difficulty",
                "family_hardship",
                "illness_or_disability",
                "migrant_work",
                "early_marriage",
                "distance",
                "other",
                name="dropoutreason",
                native_enum=False,
                length=30,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "at_risk",
                "dropped_out",
                "returned",
                name="dropoutstatus",
                native_enum=False,
                length=20,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(status = 'returned') = (returned_on IS NOT NULL)",
            name=op.f("ck_dropout_pupil_returned_on_iff_returned"),
        ),
        sa.CheckConstraint(
            "status = 'at_risk' OR left_on IS NOT NULL", name=op.f("ck_dropout_pupil_left_on_known")
        ),
        sa.CheckConstraint("grade BETWEEN 1 AND 9", name=op.f("ck_dropout_pupil_grade_compulsory")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropout_pupil")),
        sa.UniqueConstraint(
            "division_code", "id_number_index", name=op.f("uq_dropout_pupil_division_code_id_number_index")
        ),
        schema="governance",
    )
    op.create_index(
        "ix_dropout_pupil_division_code",
        "dropout_pupil",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_dropout_pupil_updated_at",
        "dropout_pupil",
        ["updated_at", "id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "dropout_measure",
        sa.Column("pupil_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "home_visit",
                "financial_aid",
                "home_teaching",
                "counselling",
                "legal_notice",
                "other",
                name="measurekind",
                native_enum=False,
                length=20,
                schema="governance",
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["governance.dropout_pupil.id"],
            name=op.f("fk_dropout_measure_pupil_id_dropout_pupil"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropout_measure")),
        schema="governance",
    )
    op.create_index(
        op.f("ix_dropout_measure_pupil_id"),
        "dropout_measure",
        ["pupil_id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "dropout_target",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enrolled_pupils", sa.Integer(), nullable=False),
        sa.Column("target_permille", sa.Double(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("enrolled_pupils > 0", name=op.f("ck_dropout_target_enrolled_pupils_positive")),
        sa.CheckConstraint(
            "target_permille IS NULL OR target_permille >= 0",
            name=op.f("ck_dropout_target_target_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropout_target")),
        sa.UniqueConstraint("division_code", "year", name=op.f("uq_dropout_target_division_code_year")),
        schema="governance",
    )
    op.create_index(
        "ix_dropout_target_division_code",
        "dropout_target",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_dropout_target_updated_at",
        "dropout_target",
        ["updated_at", "id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "dropout_assessment",
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("enrolled_pupils", sa.Integer(), nullable=False),
        sa.Column("dropped_out", sa.Integer(), nullable=False),
        sa.Column("rate_permille", sa.Double(), nullable=False),
        sa.Column("target_permille", sa.Double(), nullable=False),
        sa.Column("behind", sa.Boolean(), nullable=False),
        sa.Column("rectification_id", sa.Uuid(), nullable=True),
        sa.Column("assessed_by", sa.String(length=200), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropout_assessment")),
        sa.UniqueConstraint("division_code", "year", name=op.f("uq_dropout_assessment_division_code_year")),
        schema="governance",
    )
    op.create_index(
        "ix_dropout_assessment_division_code",
        "dropout_assessment",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_table(
        "special_topic",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_topic")),
        sa.UniqueConstraint(
            "division_code",
            "code",
            name=op.f("uq_special_topic_division_code_code"),
            postgresql_nulls_not_distinct=True,
        ),
        schema="governance",
    )
    op.create_index(
        "ix_special_topic_division_code",
        "special_topic",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_special_topic_updated_at",
        "special_topic",
        ["updated_at", "id"],
        unique=False,
        schema="governance",
    )
    op.create_table(
        "emergency_supervision",
        sa.Column("supervision_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("incident", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_report", sa.Text(), nullable=True),
        sa.Column("first_report_evidence_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("first_reported_by", sa.String(length=200), nullable=True),
        sa.Column("first_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(first_report IS NULL) = (first_reported_at IS NULL)",
            name=op.f("ck_emergency_supervision_first_report_with_time"),
        ),
        sa.CheckConstraint(
            "report_due_at > opened_at", name=op.f("ck_emergency_supervision_report_due_after_opening")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_supervision")),
        sa.UniqueConstraint("supervision_id", name=op.f("uq_emergency_supervision_supervision_id")),
        schema="governance",
    )
    op.create_index(
        "ix_emergency_supervision_division_code",
        "emergency_supervision",
        ["division_code"],
        unique=False,
        schema="governance",
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_emergency_supervision_report_due_at",
        "emergency_supervision",
        ["report_due_at"],
        unique=False,
        schema="governance",
        postgresql_where="first_reported_at IS NULL AND overdue_noticed_at IS NULL",
    )
    op.create_index(
        "ix_emergency_supervision_updated_at",
        "emergency_supervision",
        ["updated_at", "id"],
        unique=False,
        schema="governance",
    )
    topics = sa.table(
        "special_topic",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("checklist", postgresql.JSONB()),
        sa.column("division_code", sa.String()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        schema="governance",
    )
    op.bulk_insert(
        topics,
        [
            {
                **topic,
                "id": topic_id,
                "division_code": None,
                "version": 1,
                "created_at": _SEEDED_AT,
                "updated_at": _SEEDED_AT,
            }
            for topic_id, topic in zip(_SEEDED_IDS, SEEDED_TOPICS, strict=True)
        ],
    )


def downgrade() -> None:
    op.drop_table("emergency_supervision", schema="governance")
    op.drop_table("special_topic", schema="governance")
    op.drop_table("dropout_assessment", schema="governance")
    op.drop_table("dropout_target", schema="governance")
    op.drop_table("dropout_measure", schema="governance")
    op.drop_table("dropout_pupil", schema="governance")
