"""Visits (督导检查), the routine-visit policy and the facts of schools that fell behind it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, Double, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from school_inspection.db import Base
from school_inspection.school.models import School


class VisitKind(StrEnum):
    ROUTINE = "routine"  # 常规
    SPECIAL = "special"  # 专项; with ``comprehensive`` a comprehensive supervision (综合督导)
    RANDOM = "random"  # 随机
    EMERGENCY = "emergency"  # 应急


class RoutineItem(StrEnum):
    """The eight routine items of listed supervision (RULES §2), in the order the regulation lists them;
    ``ITEM_LABELS`` names them."""

    ADMINISTRATION = "administration"
    ENROLMENT_FEES = "enrolment_fees"
    CURRICULUM = "curriculum"
    PUPIL_WORKLOAD = "pupil_workload"
    TEACHER_ETHICS = "teacher_ethics"
    CAMPUS_SAFETY = "campus_safety"
    HYGIENE = "hygiene"
    SCHOOL_ETHOS = "school_ethos"


# How plates and findings name the items (《中小学校责任督学挂牌督导办法》).
ITEM_LABELS: dict[RoutineItem, str] = {
    RoutineItem.ADMINISTRATION: "学校管理与制度建设",
    RoutineItem.ENROLMENT_FEES: "招生、收费与择校",
    RoutineItem.CURRICULUM: "课程开设与课堂教学",
    RoutineItem.PUPIL_WORKLOAD: "学生学业、体育锻炼与课业负担",
    RoutineItem.TEACHER_ETHICS: "教师师德与专业发展",
    RoutineItem.CAMPUS_SAFETY: "校园、周边与交通安全",
    RoutineItem.HYGIENE: "食堂、饮食、饮水与宿舍卫生",
    RoutineItem.SCHOOL_ETHOS: "校风学风",
}


class Observation(StrEnum):
    SATISFACTORY = "satisfactory"
    PROBLEM_FOUND = "problem_found"


class Checkpoint(StrEnum):
    MIDPOINT = "midpoint"  # fewer than half the required routine visits before the semester's midpoint
    END = "end"  # fewer than required by the semester's end


class Visit(IdMixin, Base):
    __tablename__ = "visit"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    division_code: Mapped[str] = mapped_column(String(6))  # the school's
    kind: Mapped[VisitKind] = mapped_column(enum_column(VisitKind, 20))
    comprehensive: Mapped[bool]
    announced: Mapped[bool]  # False: unannounced (暗访)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    position_accuracy_m: Mapped[float | None] = mapped_column(Double)
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    team: Mapped[list[VisitInspector]] = relationship(lazy="raise", order_by="VisitInspector.position")
    items: Mapped[list[VisitItem]] = relationship(lazy="raise", order_by="VisitItem.position")

    @property
    def inspector_ids(self) -> list[UUID]:
        return [member.inspector_id for member in self.team]

    __table_args__ = (
        CheckConstraint("ended_at > started_at", name="ends_after_start"),
        CheckConstraint("NOT comprehensive OR kind = 'special'", name="comprehensive_is_special"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="position_whole"),
        CheckConstraint(
            "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="position_range"
        ),
        Index("ix_visit_school_kind_started", "school_id", "kind", "started_at"),
        division_index("visit"),
        Index("ix_visit_updated_at", "updated_at", "id"),
    )


class VisitInspector(Base):
    """A member of the visit's team. The inspector registry is referred to by id only."""

    __tablename__ = "visit_inspector"

    visit_id: Mapped[UUID] = mapped_column(ForeignKey(Visit.id), primary_key=True)
    inspector_id: Mapped[UUID] = mapped_column(ForeignKey("inspector.id"), primary_key=True)
    position: Mapped[int]

    __table_args__ = (Index("ix_visit_inspector_inspector_id", "inspector_id"),)


class VisitItem(Base):
    """The observation on one supervision item, and the rectification a problem opened."""

    __tablename__ = "visit_item"

    visit_id: Mapped[UUID] = mapped_column(ForeignKey(Visit.id), primary_key=True)
    item: Mapped[RoutineItem] = mapped_column(enum_column(RoutineItem, 30), primary_key=True)
    position: Mapped[int]
    result: Mapped[Observation] = mapped_column(enum_column(Observation, 20))
    notes: Mapped[str | None] = mapped_column(Text)
    evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))
    rectification_id: Mapped[UUID | None]  # the kit's rectification in this schema


class VisitPolicy(IdMixin, Base):
    """How often schools are visited, for a jurisdiction: the row with the longest prefix applies.

    The migration seeds the empty prefix (everywhere): 2 routine visits a semester (《教育督导条例》),
    spring from 1 February and autumn from 1 August, a comprehensive supervision every 5 years
    (Guangxi). Semesters are Asia/Shanghai dates; each runs to the day before the next one starts.
    """

    __tablename__ = "visit_policy"

    division_prefix: Mapped[str] = mapped_column(String(6), unique=True)
    routine_visits_per_semester: Mapped[int]
    spring_start_month: Mapped[int]
    spring_start_day: Mapped[int]
    autumn_start_month: Mapped[int]
    autumn_start_day: Mapped[int]
    comprehensive_cycle_years: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "routine_visits_per_semester > 0 AND comprehensive_cycle_years > 0 "
            "AND (spring_start_month, spring_start_day) < (autumn_start_month, autumn_start_day)",
            name="policy_in_range",
        ),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class VisitsBehind(IdMixin, Base):
    """The fact that a school fell behind the routine-visit policy at a checkpoint: noticed once."""

    __tablename__ = "visits_behind"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    division_code: Mapped[str] = mapped_column(String(6))
    semester: Mapped[str] = mapped_column(String(20))
    checkpoint: Mapped[Checkpoint] = mapped_column(enum_column(Checkpoint, 10))
    semester_start: Mapped[date]
    semester_end: Mapped[date]
    checkpoint_date: Mapped[date]
    visits: Mapped[int]
    required: Mapped[int]
    noticed_at: Mapped[datetime]

    school: Mapped[School] = relationship(lazy="raise")

    @property
    def school_code(self) -> str:
        return self.school.school_code

    @property
    def school_name(self) -> str:
        return self.school.name

    __table_args__ = (
        UniqueConstraint("school_id", "semester", "checkpoint"),
        division_index("visits_behind"),
    )
