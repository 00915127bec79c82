"""duty evaluation: schemes, rounds, evaluations and their items; the default scheme

Revision ID: 0003_evaluation
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dudao.ids import uuid7

revision: str = "0003_evaluation"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "governance"


def _enum(name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def _item(
    code: str,
    name: str,
    max_points: float,
    method: str,
    criteria: str,
    *evidence: str,
    per_issue: float | None = None,
    step: float | None = None,
    kind: str = "indicator",
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "max_points": max_points,
        "scoring": {"method": method, "step": step, "per_issue": per_issue},
        "criteria": criteria,
        "evidence_required": list(evidence),
    }


# The content areas of 二(三) of the Guangxi opinions, and the year's targets; weights add up to 100.
# Weights, items and bands are the platform's defaults, not the seed's: offices record their own editions.
DEFAULT_AREAS: list[dict[str, Any]] = [
    {
        "code": "laws",
        "name": "执行教育法律法规和落实重大教育决策部署",
        "weight": 10,
        "items": [
            _item(
                "laws.1",
                "贯彻执行国家教育法律法规和自治区教育法规规章",
                5,
                "proportional",
                "全面执行得满分，存在执行不到位情形的按程度酌情扣分",
                "法律法规执行情况自查报告",
                step=0.5,
            ),
            _item(
                "laws.2",
                "落实党中央、国务院和自治区党委、政府重大教育决策部署",
                5,
                "deduction",
                "每发现一项落实不力的决策部署扣1分，扣完为止",
                per_issue=1,
            ),
        ],
    },
    {
        "code": "planning",
        "name": "制定和实施教育发展规划",
        "weight": 8,
        "items": [
            _item(
                "planning.1",
                "制定教育事业发展规划并纳入经济社会发展总体规划",
                4,
                "all_or_nothing",
                "已制定并纳入得满分，否则不得分",
                "教育事业发展规划文本",
            ),
            _item(
                "planning.2",
                "规划目标任务按期推进",
                4,
                "proportional",
                "按规划年度目标完成比例计分",
                step=0.5,
            ),
        ],
    },
    {
        "code": "coordination",
        "name": "协调各级各类教育发展",
        "weight": 8,
        "items": [
            _item(
                "coordination.1", "学前教育普及普惠发展", 4, "proportional", "按普及率和普惠率达标情况计分"
            ),
            _item(
                "coordination.2",
                "普通高中与职业教育协调发展",
                4,
                "proportional",
                "按普职协调发展目标达成情况计分",
            ),
        ],
    },
    {
        "code": "equity",
        "name": "维护教育公平",
        "weight": 10,
        "items": [
            _item(
                "equity.1",
                "县域义务教育均衡发展",
                4,
                "proportional",
                "按均衡发展督导评估和监测复查结果计分",
                "均衡发展监测数据",
            ),
            _item(
                "equity.2",
                "控辍保学",
                3,
                "deduction",
                "每发现一名未劝返的失学辍学适龄儿童少年扣1分，扣完为止",
                "控辍保学工作台账",
                per_issue=1,
            ),
            _item(
                "equity.3",
                "随迁子女、留守儿童和残疾儿童少年受教育权利保障",
                3,
                "proportional",
                "按入学保障政策落实情况计分",
            ),
        ],
    },
    {
        "code": "standards",
        "name": "执行办学标准",
        "weight": 8,
        "items": [
            _item(
                "standards.1",
                "学校建设和装备配备达到国家和自治区标准",
                4,
                "proportional",
                "按达标学校比例计分",
            ),
            _item(
                "standards.2",
                "消除大班额",
                4,
                "deduction",
                "每存在一个超大班额扣0.5分，扣完为止",
                per_issue=0.5,
            ),
        ],
    },
    {
        "code": "investment",
        "name": "落实教育投入",
        "weight": 12,
        "items": [
            _item(
                "investment.1",
                "落实一般公共预算教育支出逐年只增不减、按在校学生人数平均的一般公共预算教育支出逐年只增不减",
                6,
                "all_or_nothing",
                "两个“只增不减”均落实得满分，否则不得分",
                "财政教育支出决算报表",
            ),
            _item(
                "investment.2",
                "生均公用经费按标准足额拨付",
                6,
                "proportional",
                "按足额拨付的学段和学校比例计分",
            ),
        ],
    },
    {
        "code": "funds",
        "name": "加强经费管理",
        "weight": 8,
        "items": [
            _item(
                "funds.1",
                "教育经费使用规范、审计发现问题整改到位",
                8,
                "deduction",
                "每发现一项违规使用或未整改的审计问题扣2分，扣完为止",
                "教育经费审计报告",
                per_issue=2,
            ),
        ],
    },
    {
        "code": "teachers",
        "name": "保证教师编制待遇",
        "weight": 12,
        "items": [
            _item(
                "teachers.1",
                "中小学教职工编制核定和及时补充",
                6,
                "proportional",
                "按编制核定和补充到位情况计分",
            ),
            _item(
                "teachers.2",
                "义务教育教师平均工资收入水平不低于当地公务员平均工资收入水平",
                6,
                "all_or_nothing",
                "落实得满分，否则不得分",
                "教师与公务员工资收入对比表",
            ),
        ],
    },
    {
        "code": "safety",
        "name": "保障学校安全",
        "weight": 8,
        "items": [
            _item(
                "safety.1", "校园安全风险防控体系建设", 4, "proportional", "按人防、物防、技防建设情况计分"
            ),
            _item(
                "safety.2",
                "未发生重大校园安全责任事故",
                4,
                "deduction",
                "每发生一起重大安全责任事故扣4分",
                per_issue=4,
            ),
        ],
    },
    {
        "code": "poverty",
        "name": "教育扶贫",
        "weight": 6,
        "items": [
            _item(
                "poverty.1",
                "教育扶贫政策和学生资助落实",
                6,
                "proportional",
                "按资助政策覆盖和发放情况计分",
                "学生资助发放台账",
            ),
        ],
    },
    {
        "code": "projects",
        "name": "实施重大教育工程项目",
        "weight": 5,
        "items": [
            _item(
                "projects.1",
                "重大教育工程项目按期推进",
                5,
                "proportional",
                "按项目建设进度和资金到位情况计分",
            ),
        ],
    },
    {
        "code": "targets",
        "name": "年度目标任务",
        "weight": 5,
        "items": [
            _item(
                "targets.1",
                "完成年度教育重点工作目标任务",
                5,
                "all_or_nothing",
                "全部完成得满分，否则不得分（未完成属问责情形）",
                "年度目标任务完成情况报告",
                kind="annual_target",
            ),
        ],
    },
]
DEFAULT_BANDS = [
    {"grade": "excellent", "min_score": 90},
    {"grade": "good", "min_score": 80},
    {"grade": "pass", "min_score": 60},
]


def upgrade() -> None:
    scheme = op.create_table(
        "evaluation_scheme",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("grade_bands", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_score", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("edition > 0", name=op.f("ck_evaluation_scheme_edition_positive")),
        sa.CheckConstraint("max_score > 0", name=op.f("ck_evaluation_scheme_max_score_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_scheme")),
        sa.UniqueConstraint("key", "edition", name=op.f("uq_evaluation_scheme_key_edition")),
        schema=SCHEMA,
    )
    op.create_table(
        "evaluation_round",
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scheme_id", sa.Uuid(), nullable=False),
        sa.Column("self_evaluation_due", sa.Date(), nullable=False),
        sa.Column("status", _enum("roundstatus", 20, "open", "published"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_evaluation_round_year_in_range")),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_evaluation_round_published_when_dated"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            [f"{SCHEMA}.evaluation_scheme.id"],
            name=op.f("fk_evaluation_round_scheme_id_evaluation_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_round")),
        sa.UniqueConstraint("office_division", "year", name=op.f("uq_evaluation_round_office_division_year")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_evaluation_round_office_division",
        "evaluation_round",
        ["office_division"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"office_division": "text_pattern_ops"},
    )
    op.create_index(
        "ix_evaluation_round_updated_at",
        "evaluation_round",
        ["updated_at", "id"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_table(
        "duty_evaluation",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("office_division", sa.String(length=6), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("unit_kind", _enum("unitkind", 20, "school", "government", "department"), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("competent_department", sa.String(length=200), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            _enum(
                "evaluationstatus",
                30,
                "awaiting_self_evaluation",
                "self_evaluated",
                "under_review",
                "scored",
                "concluded",
                "published",
            ),
            nullable=False,
        ),
        sa.Column("supervision_id", sa.Uuid(), nullable=True),
        sa.Column("self_score", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("score", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("grade", _enum("grade", 10, "excellent", "good", "pass", "fail"), nullable=True),
        sa.Column("targets_missed", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("self_evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "unit_kind IN ('government', 'department')", name=op.f("ck_duty_evaluation_unit_not_a_school")
        ),
        sa.CheckConstraint(
            "status NOT IN ('scored', 'concluded', 'published') OR (score IS NOT NULL AND grade IS NOT NULL)",
            name=op.f("ck_duty_evaluation_scored_has_grade"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            [f"{SCHEMA}.evaluation_round.id"],
            name=op.f("fk_duty_evaluation_round_id_evaluation_round"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_evaluation")),
        sa.UniqueConstraint("round_id", "unit_id", name=op.f("uq_duty_evaluation_round_id_unit_id")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_duty_evaluation_division_code",
        "duty_evaluation",
        ["division_code"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"division_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_duty_evaluation_round_id", "duty_evaluation", ["round_id"], unique=False, schema=SCHEMA
    )
    op.create_index(
        "ix_duty_evaluation_updated_at", "duty_evaluation", ["updated_at", "id"], unique=False, schema=SCHEMA
    )
    op.create_table(
        "duty_evaluation_item",
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=30), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("self_points", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("self_issues", sa.Integer(), nullable=True),
        sa.Column("self_notes", sa.Text(), nullable=True),
        sa.Column("evidence_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("points", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("issues", sa.Integer(), nullable=True),
        sa.Column("review_notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            [f"{SCHEMA}.duty_evaluation.id"],
            name=op.f("fk_duty_evaluation_item_evaluation_id_duty_evaluation"),
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "item_code", name=op.f("pk_duty_evaluation_item")),
        schema=SCHEMA,
    )
    op.bulk_insert(
        scheme,
        [
            {
                "id": uuid7(),
                "key": "duty-evaluation",
                "edition": 1,
                "name": "广西壮族自治区市县人民政府履行教育职责评价方案（平台默认）",
                "office_division": "450000",
                "areas": DEFAULT_AREAS,
                "grade_bands": DEFAULT_BANDS,
                "max_score": sum(area["weight"] for area in DEFAULT_AREAS),
                "created_by": "system",
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("duty_evaluation_item", schema=SCHEMA)
    op.drop_table("duty_evaluation", schema=SCHEMA)
    op.drop_table("evaluation_round", schema=SCHEMA)
    op.drop_table("evaluation_scheme", schema=SCHEMA)
