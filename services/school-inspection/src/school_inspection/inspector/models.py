"""Inspectors (督学): appointment, terms, training, conflicts of interest, reviews, responsible-school
assignments (责任督学), and the policy data whose thresholds the rules read."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from school_inspection.db import Base
from school_inspection.school.models import School


class Employment(StrEnum):
    FULL_TIME = "full_time"  # 专职
    PART_TIME = "part_time"  # 兼职


class Degree(StrEnum):
    """Highest degree, lowest first: the order is what qualification checks compare."""

    SECONDARY = "secondary"  # 中专、高中及以下
    ASSOCIATE = "associate"  # 大专
    BACHELOR = "bachelor"  # 本科
    MASTER = "master"
    DOCTORATE = "doctorate"

    @property
    def rank(self) -> int:
        return list(Degree).index(self)


class AppointmentStep(StrEnum):
    """The appointment procedure, in its only order: 推荐 → 审核 → 公示 → 任命."""

    RECOMMENDATION = "recommendation"
    REVIEW = "review"
    PUBLIC_NOTICE = "public_notice"
    ANNOUNCEMENT = "announcement"


class InspectorStatus(StrEnum):
    RECOMMENDED = "recommended"
    REVIEWED = "reviewed"
    PUBLICISED = "publicised"
    APPOINTED = "appointed"
    ENDED = "ended"  # the appointment ended (an unqualified yearly review)


class TrainingKind(StrEnum):
    PRE_SERVICE = "pre_service"  # 岗前培训
    COLLECTIVE = "collective"  # 集中培训, counted toward the yearly class hours


class ConflictKind(StrEnum):
    NEAR_RELATIVE = "near_relative"  # a near relative of the school's head or staff
    FORMER_EMPLOYER = "former_employer"
    OTHER = "other"


class Rating(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    QUALIFIED = "qualified"  # 合格
    BASICALLY_QUALIFIED = "basically_qualified"  # 基本合格
    UNQUALIFIED = "unqualified"  # 不合格: the appointment ends


class InspectionPolicy(IdMixin, Base):
    """The thresholds for a jurisdiction; the row with the longest prefix of a division code applies.

    The migration seeds the row for the empty prefix (everywhere) with the national and Guangxi
    defaults; an office may set its own for its jurisdiction.
    """

    __tablename__ = "inspection_policy"

    division_prefix: Mapped[str] = mapped_column(String(6), unique=True)
    part_time_term_years: Mapped[int]
    max_consecutive_terms: Mapped[int]
    annual_training_hours: Mapped[int]
    max_schools_per_inspector: Mapped[int]
    dedicated_enrolment_threshold: Mapped[int]
    max_schools_per_zone: Mapped[int]
    min_degree: Mapped[Degree] = mapped_column(enum_column(Degree, 20))
    min_education_years: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "part_time_term_years > 0 AND max_consecutive_terms > 0 AND annual_training_hours >= 0 "
            "AND max_schools_per_inspector > 0 AND dedicated_enrolment_threshold > 0 "
            "AND max_schools_per_zone > 0 AND min_education_years >= 0",
            name="thresholds_in_range",
        ),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class Inspector(IdMixin, Base):
    __tablename__ = "inspector"

    division_code: Mapped[str] = mapped_column(String(6))  # the office that appoints
    name: Mapped[str] = mapped_column(String(100))
    employment: Mapped[Employment] = mapped_column(enum_column(Employment, 10))
    degree: Mapped[Degree] = mapped_column(enum_column(Degree, 20))
    education_work_years: Mapped[int]
    # Personal data, sealed at rest (``dudao.encryption``).
    contact_phone_sealed: Mapped[str] = mapped_column(Text)
    contact_email_sealed: Mapped[str | None] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[InspectorStatus] = mapped_column(enum_column(InspectorStatus, 20))
    appointed_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    steps: Mapped[list[InspectorAppointmentStep]] = relationship(
        lazy="raise", order_by="InspectorAppointmentStep.step_date"
    )
    terms: Mapped[list[InspectorTerm]] = relationship(lazy="raise", order_by="InspectorTerm.sequence")

    __table_args__ = (
        CheckConstraint("education_work_years >= 0", name="education_work_years_not_negative"),
        division_index("inspector"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class InspectorAppointmentStep(IdMixin, Base):
    __tablename__ = "inspector_appointment_step"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    step: Mapped[AppointmentStep] = mapped_column(enum_column(AppointmentStep, 20))
    step_date: Mapped[date]
    acted_by: Mapped[str] = mapped_column(String(200))  # the person or body that took the step
    document_number: Mapped[str | None] = mapped_column(String(100))  # 文号 of a notice or announcement
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("inspector_id", "step"),)


class InspectorTerm(IdMixin, Base):
    """A part-time inspector's term (任期); ``sequence`` counts every term of the inspector."""

    __tablename__ = "inspector_term"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    sequence: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("inspector_id", "sequence"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )


class TrainingRecord(IdMixin, Base):
    """The training ledger (培训记录)."""

    __tablename__ = "inspector_training"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    kind: Mapped[TrainingKind] = mapped_column(enum_column(TrainingKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[date]
    class_hours: Mapped[int]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("class_hours >= 0", name="class_hours_not_negative"),
        Index("ix_inspector_training_inspector_id", "inspector_id", "held_on"),
    )


class ConflictOfInterest(IdMixin, Base):
    """A tie to a school that makes the inspector recuse (回避) from it."""

    __tablename__ = "inspector_conflict"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    kind: Mapped[ConflictKind] = mapped_column(enum_column(ConflictKind, 20))
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (Index("ix_inspector_conflict_inspector_id", "inspector_id", "school_id"),)


class PerformanceReview(IdMixin, Base):
    """The yearly performance review (年度考核)."""

    __tablename__ = "inspector_review"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    year: Mapped[int]
    rating: Mapped[Rating] = mapped_column(enum_column(Rating, 20))
    comments: Mapped[str | None] = mapped_column(Text)
    reviewed_on: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("inspector_id", "year"),)


class Assignment(IdMixin, Base):
    """A responsible inspector (责任督学) for a school, from ``starts_on`` to ``ends_on`` inclusive."""

    __tablename__ = "responsible_assignment"

    inspector_id: Mapped[UUID] = mapped_column(ForeignKey(Inspector.id))
    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id))
    division_code: Mapped[str] = mapped_column(String(6))  # the school's
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        Index("ix_responsible_assignment_school_id", "school_id", "starts_on"),
        Index("ix_responsible_assignment_inspector_id", "inspector_id", "starts_on"),
        division_index("responsible_assignment"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
