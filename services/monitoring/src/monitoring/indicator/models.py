"""The indicator library (指标库): indicator systems as trees of indicators, the data elements they are
measured by, and the standards and thresholds they are judged against.

An edition of a system is immutable once recorded, with everything under it: a revision is the next
edition, so data collected and verdicts given on an earlier edition keep it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, enum_column
from monitoring.db import Base


class EducationLevel(StrEnum):
    """The level and type of education a system assesses (学段与类型)."""

    KINDERGARTEN = "kindergarten"  # 学前教育
    COMPULSORY = "compulsory"  # 义务教育 (primary and junior secondary)
    SECONDARY_VOCATIONAL = "secondary_vocational"  # 中等职业教育
    HIGHER_VOCATIONAL = "higher_vocational"  # 高等职业教育
    UNDERGRADUATE = "undergraduate"  # 本科教育


class UnitKind(StrEnum):
    """What a data element's values are about: a school (its id) or a county (its division code)."""

    SCHOOL = "school"
    COUNTY = "county"


class ElementKind(StrEnum):
    BASE = "base"  # collected
    DERIVED = "derived"  # computed by its formula over other elements


class Stage(StrEnum):
    """The stage a standard applies to (学段); a standard without one applies to every stage."""

    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


class Comparison(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EQUAL = "equal"


class IndicatorSystem(IdMixin, Base):
    """One edition of an indicator system (指标体系). ``office_division`` is the office that recorded it:
    it and every office below it use it; the seeded systems are the region's."""

    __tablename__ = "indicator_system"

    key: Mapped[str] = mapped_column(String(60))
    edition: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    education_level: Mapped[EducationLevel] = mapped_column(enum_column(EducationLevel, 30))
    office_division: Mapped[str] = mapped_column(String(6))
    document: Mapped[str | None] = mapped_column(String(200))  # the rules it implements, by document number
    level_names: Mapped[list[str]] = mapped_column(ARRAY(String(30)))  # 一级指标, 二级指标, …
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("key", "edition"),
        CheckConstraint("edition > 0", name="edition_positive"),
        CheckConstraint("cardinality(level_names) BETWEEN 1 AND 6", name="levels_in_range"),
        Index(
            "ix_indicator_system_office_division",
            "office_division",
            postgresql_ops={"office_division": "text_pattern_ops"},
        ),
        Index("ix_indicator_system_created_at", "created_at", "id"),
    )


class Indicator(Base):
    """A node of a system's tree: ``level`` 1 has no parent. A node measured by a data element names it;
    a ``veto`` node not at its standard fails the whole assessment (一票否决)."""

    __tablename__ = "indicator"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(30))
    level: Mapped[int]
    position: Mapped[int]  # depth-first order of the tree, as recorded
    name: Mapped[str] = mapped_column(String(300))
    element_code: Mapped[str | None] = mapped_column(String(60))
    veto: Mapped[bool]
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 6", name="level_in_range"),
        CheckConstraint("(level = 1) = (parent_code IS NULL)", name="parent_above_the_top"),
    )


class DataElement(IdMixin, Base):
    """A value collected for a school or county per year (``base``), or computed from others by its
    ``formula`` (``derived``), in ``unit``, valid within ``min_value`` … ``max_value`` when given."""

    __tablename__ = "data_element"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    code: Mapped[str] = mapped_column(String(60))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(30))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    kind: Mapped[ElementKind] = mapped_column(enum_column(ElementKind, 10))
    formula: Mapped[str | None] = mapped_column(Text)
    min_value: Mapped[Decimal | None]
    max_value: Mapped[Decimal | None]
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("system_id", "code"),
        CheckConstraint("(kind = 'derived') = (formula IS NOT NULL)", name="derived_by_formula"),
        CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="range_ordered"
        ),
    )


class Standard(IdMixin, Base):
    """What an element's value must be (标准) for a stage (or any, without one) in the divisions under
    ``division_prefix``: where several prefixes cover a division, the longest wins."""

    __tablename__ = "indicator_standard"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    element_code: Mapped[str] = mapped_column(String(60))
    stage: Mapped[Stage | None] = mapped_column(enum_column(Stage, 10))
    division_prefix: Mapped[str] = mapped_column(String(6))
    comparison: Mapped[Comparison] = mapped_column(enum_column(Comparison, 10))
    value: Mapped[Decimal]

    __table_args__ = (
        # Named by hand: the convention's name would pass PostgreSQL's 63 characters.
        UniqueConstraint(
            "system_id",
            "element_code",
            "stage",
            "division_prefix",
            name="uq_indicator_standard_element_stage_prefix",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("division_prefix ~ '^[1-9][0-9]{1,5}$'", name="prefix_of_a_division"),
    )

    def met(self, value: Decimal) -> bool:
        if self.comparison == Comparison.AT_LEAST:
            return value >= self.value
        if self.comparison == Comparison.AT_MOST:
            return value <= self.value
        return value == self.value


class Threshold(Base):
    """A number a system's rules are applied with (阈值), by code: ``cv.primary``, ``school.floor_ratio``,
    ``weight.nine_year.junior`` …, per division prefix like a standard."""

    __tablename__ = "indicator_threshold"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    division_prefix: Mapped[str] = mapped_column(String(6), primary_key=True)
    value: Mapped[Decimal]
    description: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (CheckConstraint("division_prefix ~ '^[1-9][0-9]{1,5}$'", name="prefix_of_a_division"),)
