"""indicator library: systems, their indicator trees, data elements, standards and thresholds; the 2017
balanced-development system and the 2022 kindergarten quality guide

Revision ID: 0003_indicator
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dudao.ids import uuid7

revision: str = "0003_indicator"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "monitoring"
REGION = "450000"  # the seeded systems are the region's: every office uses them
PREFIX = "45"


def _enum(name: str, length: int, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length, schema=SCHEMA)


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["system_id"],
        [f"{SCHEMA}.indicator_system.id"],
        name=op.f(f"fk_{table}_system_id_indicator_system"),
    )


def _prefix_check(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "division_prefix ~ '^[1-9][0-9]{1,5}$'", name=op.f(f"ck_{table}_prefix_of_a_division")
    )


# The 2017 county high-quality balanced development system (教督〔2017〕6号), RULES.md §1 ----------------

# (code, name, unit, element, primary standard, junior standard): per school, computed over the stage's
# pupils (``pupils``: a combined school's stage share, as balanced development splits it).
RESOURCES = [
    ("1", "每百名学生拥有高于规定学历教师数", "人", "teachers_above_qualification", "4.2", "5.3"),
    ("2", "每百名学生拥有县级及以上骨干教师数", "人", "key_teachers", "1.0", "1.0"),
    ("3", "每百名学生拥有体育、艺术（美术、音乐）专任教师数", "人", "pe_arts_teachers", "0.9", "0.9"),
    ("4", "生均教学及辅助用房面积", "m²", "teaching_floor_area", "4.5", "5.8"),
    ("5", "生均体育运动场馆面积", "m²", "sports_ground_area", "7.5", "10.2"),
    ("6", "生均教学仪器设备值", "元", "equipment_value", "2000", "2500"),
    ("7", "每百名学生拥有网络多媒体教室数", "间", "multimedia_classrooms", "2.3", "2.4"),
]
PER_HUNDRED = {"1", "2", "3", "7"}
SCHOOL_BASE = [
    ("pupils_primary", "小学在校生数", "人"),
    ("pupils_junior", "初中在校生数", "人"),
    ("pupils_senior", "高中在校生数", "人"),
    ("teachers_above_qualification", "高于规定学历教师数", "人"),
    ("key_teachers", "县级及以上骨干教师数", "人"),
    ("pe_arts_teachers", "体育、艺术（美术、音乐）专任教师数", "人"),
    ("teaching_floor_area", "教学及辅助用房面积", "m²"),
    ("sports_ground_area", "体育运动场馆面积", "m²"),
    ("equipment_value", "教学仪器设备值", "元"),
    ("multimedia_classrooms", "网络多媒体教室数", "间"),
]
GUARANTEE = [
    "县域内义务教育学校规划布局合理，符合国家规定要求",
    "县级人民政府制定义务教育学校办学标准，执行城乡统一的中小学校建设标准、教职工编制标准、生均公用经费基准定额、"
    "基本装备配置标准",
    "每12个班级配备音乐、美术专用教室1间以上，其中，每间音乐专用教室面积不小于96平方米，每间美术专用教室面积不小于"
    "90平方米",
    "学校规模不超过2000人，九年一贯制学校、十二年一贯制学校义务教育阶段规模不超过2500人",
    "小学、初中所有班级学生数分别不超过45人、50人",
    "不足100名学生的村小学和教学点按100名学生核定公用经费",
    "特殊教育学校生均公用经费不低于8000元",
    "全县义务教育学校教师平均工资收入水平不低于当地公务员平均工资收入水平",
    "教师5年360学时培训完成率达到100%",
    "县级教育行政部门在核定的教职工编制总额和岗位总量内，统筹分配各校教职工编制和岗位数量",
    "全县每年交流轮岗教师的比例不低于符合交流条件教师总数的10%；其中，骨干教师不低于交流轮岗教师总数的20%",
    "专任教师持有教师资格证上岗率达到100%",
    "城区和镇区公办小学、初中（不含寄宿制学校）就近划片入学比例分别达到100%、95%",
    "全县优质高中招生名额分配比例不低于50%，并向农村初中倾斜",
    "留守儿童关爱体系健全，全县符合条件的随迁子女在公办学校和政府购买服务的民办学校就读的比例不低于85%",
]
QUALITY = [
    "全县初中三年巩固率达到95%以上",
    "全县残疾儿童少年入学率达到95%以上",
    "所有学校制定章程，实现学校管理与教学信息化",
    "所有学校按照不低于学校年度公用经费预算总额的5%安排教师培训经费",
    "教师能熟练运用信息化手段组织教学，设施设备利用率达到较高水平",
    "所有学校德育工作、校园文化建设水平达到良好以上",
    "课程开齐开足，教学秩序规范，综合实践活动有效开展",
    "无过重课业负担",
    "在国家义务教育质量监测中，相关科目学生学业水平达到Ⅲ级以上，且校际差异率低于0.15",
]
VETOES = [
    ("exam_admission", "存在以考试方式招生"),
    ("irregular_choice", "存在违规择校行为"),
    ("key_schools", "存在重点学校或重点班"),
    ("recognition_below_bar", "社会认可度达不到85%"),
]
# Data, as RULES.md §1 has them; offices override a prefix of their own (provincial practice varies).
BALANCED_THRESHOLDS = [
    ("cv.primary", "0.50", "小学各项资源配置指标校际差异系数上限"),
    ("cv.junior", "0.45", "初中各项资源配置指标校际差异系数上限"),
    ("school.indicators_met", "6", "每所学校至少达标的资源配置指标数（共7项）"),
    ("school.floor_ratio", "0.85", "未达标指标不得低于标准的比例"),
    ("weight.nine_year.primary", "1", "九年一贯制学校小学学段学生权重"),
    ("weight.nine_year.junior", "1.1", "九年一贯制学校初中学段学生权重"),
    ("weight.complete_secondary.junior", "1", "完全中学初中学段学生权重"),
    ("weight.complete_secondary.senior", "1.2", "完全中学高中学段学生权重"),
    ("weight.twelve_year.primary", "1", "十二年一贯制学校小学学段学生权重"),
    ("weight.twelve_year.junior", "1.1", "十二年一贯制学校初中学段学生权重"),
    ("weight.twelve_year.senior", "1.32", "十二年一贯制学校高中学段学生权重"),
    ("scope.teaching_point_min_pupils", "50", "学生数不足此数的教学点不纳入计算"),
    ("application.years_after_basic", "3", "通过基本均衡认定后满此年数方可申请"),
    ("quality.attainment_level_min", "3", "质量监测学业水平最低等级（Ⅲ级）"),
    ("quality.difference_rate_max", "0.15", "质量监测校际差异率上限（低于）"),
]


def _element(
    code: str,
    name: str,
    unit: str | None,
    unit_kind: str,
    *,
    formula: str | None = None,
    low: str | None = "0",
    high: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "unit": unit,
        "unit_kind": unit_kind,
        "kind": "base" if formula is None else "derived",
        "formula": formula,
        "min_value": None if low is None else Decimal(low),
        "max_value": None if high is None else Decimal(high),
        "description": description,
    }


def _flag(code: str, name: str) -> dict[str, Any]:
    """A county-level item that is met (1) or not (0)."""
    return _element(code, name, None, "county", high="1")


def _balanced_2017() -> dict[str, Any]:
    elements = [_element(code, name, unit, "school") for code, name, unit in SCHOOL_BASE]
    elements.append(
        _element(
            "pupils",
            "在校生数",
            "人",
            "school",
            formula="pupils_primary + pupils_junior + pupils_senior",
            description="分学段计算时为该学段（一贯制学校按学生权重折算）的学生数",
        )
    )
    standards: list[tuple[str, str | None, str, str]] = []
    tree: list[dict[str, Any]] = []
    resources = []
    for n, name, unit, base, primary, junior in RESOURCES:
        code = f"resource.{n}"
        formula = f"{base} / pupils * 100" if n in PER_HUNDRED else f"{base} / pupils"
        elements.append(_element(code, name, unit, "school", formula=formula, low=None))
        standards += [(code, "primary", "at_least", primary), (code, "junior", "at_least", junior)]
        resources.append(_node(code, name, code))
    tree.append(_node("resource", "资源配置", None, resources))
    for area, title, names in (("guarantee", "政府保障程度", GUARANTEE), ("quality", "教育质量", QUALITY)):
        items = []
        level = "2" if area == "guarantee" else "3"
        for i, name in enumerate(names, start=1):
            code = f"{area}.{level}_{i}"
            elements.append(_flag(code, name))
            standards.append((code, None, "equal", "1"))
            items.append(_node(code, name, code))
        tree.append(_node(area, title, None, items))
    elements.append(_element("recognition.4_1", "社会认可度（满意率）", None, "county", high="1"))
    standards.append(("recognition.4_1", None, "at_least", "0.85"))
    tree.append(
        _node(
            "recognition",
            "社会认可度",
            None,
            [_node("recognition.4_1", "社会认可度达到85%以上", "recognition.4_1")],
        )
    )
    vetoes = []
    for key, name in VETOES:
        code = f"veto.{key}"
        elements.append(_flag(code, name))
        standards.append((code, None, "equal", "0"))
        vetoes.append(_node(code, name, code, veto=True))
    tree.append(_node("veto", "一票否决", None, vetoes))
    return {
        "key": "balanced-2017",
        "name": "县域义务教育优质均衡发展督导评估指标体系",
        "education_level": "compulsory",
        "document": "教督〔2017〕6号",
        "level_names": ["一级指标", "二级指标"],
        "description": "资源配置7项（分小学、初中标准）、政府保障程度15项、教育质量9项、社会认可度，"
        "及一票否决情形。",
        "tree": tree,
        "elements": elements,
        "standards": standards,
        "thresholds": BALANCED_THRESHOLDS,
    }


# The 2022 kindergarten care and education quality guide (教基〔2022〕1号), RULES.md §1b -------------------

# Areas and key indicators as the guide names them; how many check points each key indicator has is from
# secondary sources (UNVERIFIED, 48 in all), and the points' names are placeholders for offices to fill in
# by recording the next edition.
KINDERGARTEN = [
    ("办园方向", [("党建工作", 3), ("品德启蒙", 2), ("科学理念", 3)]),
    ("保育与安全", [("卫生保健", 4), ("生活照料", 3), ("安全防护", 3)]),
    ("教育过程", [("活动组织", 4), ("师幼互动", 7), ("家园共育", 3)]),
    ("环境创设", [("空间设施", 3), ("玩具材料", 3)]),
    ("教师队伍", [("师德师风", 2), ("人员配备", 2), ("专业发展", 3), ("激励机制", 3)]),
]


def _kindergarten_2022() -> dict[str, Any]:
    tree, key_no, point_no = [], 0, 0
    for a, (area, keys) in enumerate(KINDERGARTEN, start=1):
        indicators = []
        for name, points in keys:
            key_no += 1
            children = []
            for _ in range(points):
                point_no += 1
                children.append(_node(f"C{point_no}", f"考查要点{point_no}（待填写）", None))
            indicators.append(_node(f"B{key_no}", name, None, children))
        tree.append(_node(f"A{a}", area, None, indicators))
    assert (key_no, point_no) == (15, 48)
    return {
        "key": "kindergarten-quality-2022",
        "name": "幼儿园保育教育质量评估指标",
        "education_level": "kindergarten",
        "document": "教基〔2022〕1号",
        "level_names": ["评估内容", "关键指标", "考查要点"],
        "description": "5个方面、15项关键指标、48个考查要点；考查要点名称由各地督导部门填写后记录新版本。",
        "tree": tree,
        "elements": [],
        "standards": [],
        "thresholds": [],
    }


def _node(
    code: str,
    name: str,
    element: str | None,
    children: list[dict[str, Any]] | None = None,
    *,
    veto: bool = False,
) -> dict[str, Any]:
    return {"code": code, "name": name, "element": element, "veto": veto, "children": children or []}


def _rows(system: dict[str, Any], now: datetime) -> dict[str, list[dict[str, Any]]]:
    system_id: UUID = uuid7()
    indicators: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], level: int, parent: str | None) -> None:
        indicators.append(
            {
                "system_id": system_id,
                "code": node["code"],
                "parent_code": parent,
                "level": level,
                "position": len(indicators),
                "name": node["name"],
                "element_code": node["element"],
                "veto": node["veto"],
                "description": None,
            }
        )
        for child in node["children"]:
            walk(child, level + 1, node["code"])

    for node in system["tree"]:
        walk(node, 1, None)
    return {
        "indicator_system": [
            {
                "id": system_id,
                "key": system["key"],
                "edition": 1,
                "name": system["name"],
                "education_level": system["education_level"],
                "office_division": REGION,
                "document": system["document"],
                "level_names": system["level_names"],
                "description": system["description"],
                "created_by": "system",
                "created_at": now,
            }
        ],
        "indicator": indicators,
        "data_element": [
            {"id": uuid7(), "system_id": system_id, "position": p, **e}
            for p, e in enumerate(system["elements"])
        ],
        "indicator_standard": [
            {
                "id": uuid7(),
                "system_id": system_id,
                "element_code": code,
                "stage": stage,
                "division_prefix": PREFIX,
                "comparison": comparison,
                "value": Decimal(value),
            }
            for code, stage, comparison, value in system["standards"]
        ],
        "indicator_threshold": [
            {
                "system_id": system_id,
                "code": code,
                "division_prefix": PREFIX,
                "value": Decimal(value),
                "description": description,
            }
            for code, value, description in system["thresholds"]
        ],
    }


def upgrade() -> None:
    tables = {
        "indicator_system": op.create_table(
            "indicator_system",
            sa.Column("key", sa.String(length=60), nullable=False),
            sa.Column("edition", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column(
                "education_level",
                _enum(
                    "educationlevel",
                    30,
                    "kindergarten",
                    "compulsory",
                    "secondary_vocational",
                    "higher_vocational",
                    "undergraduate",
                ),
                nullable=False,
            ),
            sa.Column("office_division", sa.String(length=6), nullable=False),
            sa.Column("document", sa.String(length=200), nullable=True),
            sa.Column("level_names", postgresql.ARRAY(sa.String(length=30)), nullable=False),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("created_by", sa.String(length=200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.CheckConstraint("edition > 0", name=op.f("ck_indicator_system_edition_positive")),
            sa.CheckConstraint(
                "cardinality(level_names) BETWEEN 1 AND 6", name=op.f("ck_indicator_system_levels_in_range")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_system")),
            sa.UniqueConstraint("key", "edition", name=op.f("uq_indicator_system_key_edition")),
            schema=SCHEMA,
        ),
        "indicator": op.create_table(
            "indicator",
            sa.Column("system_id", sa.Uuid(), nullable=False),
            sa.Column("code", sa.String(length=30), nullable=False),
            sa.Column("parent_code", sa.String(length=30), nullable=True),
            sa.Column("level", sa.Integer(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=300), nullable=False),
            sa.Column("element_code", sa.String(length=60), nullable=True),
            sa.Column("veto", sa.Boolean(), nullable=False),
            sa.Column("description", sa.Text(), nullable=True),
            sa.CheckConstraint("level BETWEEN 1 AND 6", name=op.f("ck_indicator_level_in_range")),
            sa.CheckConstraint(
                "(level = 1) = (parent_code IS NULL)", name=op.f("ck_indicator_parent_above_the_top")
            ),
            _fk("indicator"),
            sa.PrimaryKeyConstraint("system_id", "code", name=op.f("pk_indicator")),
            schema=SCHEMA,
        ),
        "data_element": op.create_table(
            "data_element",
            sa.Column("system_id", sa.Uuid(), nullable=False),
            sa.Column("code", sa.String(length=60), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("unit", sa.String(length=30), nullable=True),
            sa.Column("unit_kind", _enum("unitkind", 10, "school", "county"), nullable=False),
            sa.Column("kind", _enum("elementkind", 10, "base", "derived"), nullable=False),
            sa.Column("formula", sa.Text(), nullable=True),
            sa.Column("min_value", sa.Numeric(), nullable=True),
            sa.Column("max_value", sa.Numeric(), nullable=True),
            sa.Column("description", sa.Text(), nullable=True),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.CheckConstraint(
                "(kind = 'derived') = (formula IS NOT NULL)", name=op.f("ck_data_element_derived_by_formula")
            ),
            sa.CheckConstraint(
                "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
                name=op.f("ck_data_element_range_ordered"),
            ),
            _fk("data_element"),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_data_element")),
            sa.UniqueConstraint("system_id", "code", name=op.f("uq_data_element_system_id_code")),
            schema=SCHEMA,
        ),
        "indicator_standard": op.create_table(
            "indicator_standard",
            sa.Column("system_id", sa.Uuid(), nullable=False),
            sa.Column("element_code", sa.String(length=60), nullable=False),
            sa.Column("stage", _enum("stage", 10, "primary", "junior", "senior"), nullable=True),
            sa.Column("division_prefix", sa.String(length=6), nullable=False),
            sa.Column("comparison", _enum("comparison", 10, "at_least", "at_most", "equal"), nullable=False),
            sa.Column("value", sa.Numeric(), nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            _prefix_check("indicator_standard"),
            _fk("indicator_standard"),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_standard")),
            sa.UniqueConstraint(
                "system_id",
                "element_code",
                "stage",
                "division_prefix",
                name="uq_indicator_standard_element_stage_prefix",
                postgresql_nulls_not_distinct=True,
            ),
            schema=SCHEMA,
        ),
        "indicator_threshold": op.create_table(
            "indicator_threshold",
            sa.Column("system_id", sa.Uuid(), nullable=False),
            sa.Column("code", sa.String(length=60), nullable=False),
            sa.Column("division_prefix", sa.String(length=6), nullable=False),
            sa.Column("value", sa.Numeric(), nullable=False),
            sa.Column("description", sa.String(length=300), nullable=True),
            _prefix_check("indicator_threshold"),
            _fk("indicator_threshold"),
            sa.PrimaryKeyConstraint(
                "system_id", "code", "division_prefix", name=op.f("pk_indicator_threshold")
            ),
            schema=SCHEMA,
        ),
    }
    op.create_index(
        "ix_indicator_system_office_division",
        "indicator_system",
        ["office_division"],
        unique=False,
        schema=SCHEMA,
        postgresql_ops={"office_division": "text_pattern_ops"},
    )
    op.create_index(
        "ix_indicator_system_created_at",
        "indicator_system",
        ["created_at", "id"],
        unique=False,
        schema=SCHEMA,
    )
    now = datetime.now(UTC)
    for system in (_balanced_2017(), _kindergarten_2022()):
        for name, rows in _rows(system, now).items():
            if rows:
                op.bulk_insert(tables[name], rows)


def downgrade() -> None:
    for table in ("indicator_threshold", "indicator_standard", "data_element", "indicator"):
        op.drop_table(table, schema=SCHEMA)
    op.drop_index("ix_indicator_system_created_at", table_name="indicator_system", schema=SCHEMA)
    op.drop_index(
        "ix_indicator_system_office_division",
        table_name="indicator_system",
        schema=SCHEMA,
        postgresql_ops={"office_division": "text_pattern_ops"},
    )
    op.drop_table("indicator_system", schema=SCHEMA)
