"""Dynamic monitoring and early warning (动态监测预警, 二(六)): rules kept as data, and the alerts they raise.

A rule watches an expression over data elements (a bare element code is one) for one kind of unit:
``threshold`` (the value compared with a bound), ``change`` (against the previous year's, relative or
absolute), ``outlier`` (against the unit's county: beyond ``bound`` enrolment-weighted standard deviations,
or outside the county's interquartile fence ``bound``×IQR), ``consistency`` (a cross-check: the left
expression must stand in ``operator`` to the right one, e.g. qualified teachers ≤ pupils) and
``registry`` (a cross-check of the reported pupils against the school registry's enrolment, within a
relative tolerance ``bound``). An alert is raised once per rule, unit, year and period: its id derives
from them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from dudao.rectification.models import Severity
from monitoring.collection.models import Amount
from monitoring.db import Base
from monitoring.indicator.models import IndicatorSystem, UnitKind


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    CHANGE = "change"
    OUTLIER = "outlier"
    CONSISTENCY = "consistency"
    REGISTRY = "registry"


class Operator(StrEnum):
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    EQ = "eq"
    NE = "ne"


class ChangeMode(StrEnum):
    RELATIVE = "relative"  # (this year − last year) / last year
    ABSOLUTE = "absolute"  # this year − last year


class OutlierMethod(StrEnum):
    SIGMA = "sigma"  # |x − weighted mean| > bound × weighted standard deviation
    IQR = "iqr"  # x < Q1 − bound × IQR or x > Q3 + bound × IQR


class AlertStatus(StrEnum):
    OPEN = "open"
    FINDING_RAISED = "finding_raised"  # turned into a finding in the rectification loop
    DISMISSED = "dismissed"


class WarningRule(IdMixin, Base):
    __tablename__ = "warning_rule"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The office whose rule it is: it applies to the units under this division.
    division_code: Mapped[str] = mapped_column(String(6))
    # The indicator system whose values it watches (its latest edition), by key.
    system_key: Mapped[str] = mapped_column(String(60))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    kind: Mapped[RuleKind] = mapped_column(enum_column(RuleKind, 20))
    expression: Mapped[str] = mapped_column(Text)
    operator: Mapped[Operator | None] = mapped_column(enum_column(Operator, 2))
    bound: Mapped[Decimal | None] = mapped_column(Amount)
    right_expression: Mapped[str | None] = mapped_column(Text)
    change_mode: Mapped[ChangeMode | None] = mapped_column(enum_column(ChangeMode, 10))
    outlier_method: Mapped[OutlierMethod | None] = mapped_column(enum_column(OutlierMethod, 10))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 10))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "(kind IN ('threshold', 'change', 'consistency')) = (operator IS NOT NULL)",
            name="operator_iff_compared",
        ),
        CheckConstraint(
            "(kind = 'consistency') = (right_expression IS NOT NULL)", name="right_iff_consistency"
        ),
        CheckConstraint("(kind = 'change') = (change_mode IS NOT NULL)", name="mode_iff_change"),
        CheckConstraint("(kind = 'outlier') = (outlier_method IS NOT NULL)", name="method_iff_outlier"),
        CheckConstraint("(kind = 'consistency') = (bound IS NULL)", name="bound_unless_consistency"),
        CheckConstraint("kind NOT IN ('outlier', 'registry') OR bound > 0", name="bound_positive"),
        CheckConstraint("kind <> 'registry' OR unit_kind = 'school'", name="registry_of_schools"),
        division_index("warning_rule"),
        Index("ix_warning_rule_updated_at", "updated_at", "id"),
    )


class WarningAlert(Base):
    """What a rule found at a unit for a year. ``division_code`` is the unit's county."""

    __tablename__ = "warning_alert"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # derived from (rule, unit, year, period)
    rule_id: Mapped[UUID] = mapped_column(ForeignKey(WarningRule.id))
    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 10))
    unit_id: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    # Values are collected once a year: the period within it that the alert is about.
    period: Mapped[str] = mapped_column(String(20))
    observed: Mapped[Decimal | None] = mapped_column(Amount)
    # The values behind it: the unit's elements, last year's value, the county's statistics …
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus, 20))
    dismissal_reason: Mapped[str | None] = mapped_column(Text)
    rectification_id: Mapped[UUID | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    rule: Mapped[WarningRule] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("rule_id", "unit_kind", "unit_id", "year", "period"),
        CheckConstraint(
            "(status = 'dismissed') = (dismissal_reason IS NOT NULL)", name="reason_iff_dismissed"
        ),
        CheckConstraint(
            "(status = 'finding_raised') = (rectification_id IS NOT NULL)", name="rectification_iff_raised"
        ),
        CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_unless_open"),
        division_index("warning_alert"),
        Index("ix_warning_alert_updated_at", "updated_at", "id"),
    )
