"""Third-party assessment agencies (第三方评估监测机构) and their commissions by government purchase
(政府购买服务, 二五): what is assessed, where, when and what is delivered; the API keys bound to a
commission; the agency's reports and quality monitoring results, and the office's review of them.

``commission.system_ids`` name indicator systems (an array: no foreign key can hold it), and
``commission_key.key_id`` a key of the kit's ``common.api_key`` (in another migration history).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, division_index, enum_column
from monitoring.db import Base
from monitoring.indicator.models import IndicatorSystem


class CommissionStatus(StrEnum):
    ACTIVE = "active"  # in force within its period
    COMPLETED = "completed"  # every deliverable accepted, closed by the office
    TERMINATED = "terminated"  # ended early by the office


class DeliverableKind(StrEnum):
    DATA = "data"  # data submitted through collection tasks, with a covering note
    REPORT = "report"  # an assessment report (评估报告)
    QUALITY_RESULTS = "quality_results"  # quality monitoring results per county (item 3.9)


class DeliverableStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # with comments; the agency submits again


class ReviewDecision(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"


class Agency(IdMixin, Base):
    """An agency in the registry of the office that registered it (``division_code``). Its contacts (names,
    phones, e-mails) are one sealed JSON list (``dudao.encryption``)."""

    __tablename__ = "agency"

    division_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))  # 统一社会信用代码
    qualification_kind: Mapped[str] = mapped_column(String(100))
    certificate_number: Mapped[str] = mapped_column(String(100))
    qualification_valid_until: Mapped[date]
    contacts_sealed: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("division_code", "credit_code"),
        division_index("agency"),
        Index("ix_agency_updated_at", "updated_at", "id"),
    )


class Commission(IdMixin, Base):
    """A commission of an agency by the office of ``division_code``: the indicator systems it assesses, the
    divisions (prefixes) and, if listed, the units (school roster ids or county codes) within them, and
    the period. An agency's key bound to it reaches nothing else."""

    __tablename__ = "commission"

    division_code: Mapped[str] = mapped_column(String(6))  # the commissioning office's
    agency_id: Mapped[UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    purchase_reference: Mapped[str] = mapped_column(String(100))  # the purchase contract's number
    system_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    divisions: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    unit_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)))  # empty: every unit of the divisions
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[CommissionStatus] = mapped_column(enum_column(CommissionStatus, 20))
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    deliverables: Mapped[list[CommissionDeliverable]] = relationship(
        lazy="raise", order_by="CommissionDeliverable.due_on, CommissionDeliverable.id"
    )

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("cardinality(system_ids) > 0", name="has_systems"),
        CheckConstraint("cardinality(divisions) > 0", name="has_divisions"),
        division_index("commission"),
        Index("ix_commission_updated_at", "updated_at", "id"),
    )


class CommissionDeliverable(IdMixin, Base):
    __tablename__ = "commission_deliverable"

    commission_id: Mapped[UUID] = mapped_column(ForeignKey("commission.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[DeliverableKind] = mapped_column(enum_column(DeliverableKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    status: Mapped[DeliverableStatus] = mapped_column(enum_column(DeliverableStatus, 20))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (division_index("commission_deliverable"),)


class CommissionKey(Base):
    """An API key issued for a commission: the key (kit) carries the services, divisions, operations and
    expiry; this binding carries the commission, and with it the indicator systems, units and period."""

    __tablename__ = "commission_key"

    key_id: Mapped[UUID] = mapped_column(primary_key=True)
    commission_id: Mapped[UUID] = mapped_column(ForeignKey("commission.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(6))
    display_prefix: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]

    __table_args__ = (division_index("commission_key"),)


class AgencyReport(IdMixin, Base):
    """One submission of a deliverable by the agency: a document (text and evidence files); every
    submission is kept, the office reviews the latest."""

    __tablename__ = "agency_report"

    deliverable_id: Mapped[UUID] = mapped_column(ForeignKey("commission_deliverable.id"), index=True)
    commission_id: Mapped[UUID] = mapped_column(ForeignKey("commission.id"))
    division_code: Mapped[str] = mapped_column(String(6))
    text: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    system_id: Mapped[UUID | None] = mapped_column(
        ForeignKey(IndicatorSystem.id)
    )  # quality results: the system whose item 3.9 they feed
    year: Mapped[int | None]
    submitted_by: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(40))
    submitted_at: Mapped[datetime]

    results: Mapped[list[QualityResult]] = relationship(
        lazy="raise", order_by="QualityResult.county_code, QualityResult.subject"
    )

    __table_args__ = (
        CheckConstraint("(system_id IS NULL) = (year IS NULL)", name="results_year_with_system"),
        division_index("agency_report"),
    )


class QualityResult(IdMixin, Base):
    """A county's result in one subject of quality monitoring: its attainment level (学业水平, I–IV) and
    difference rate (差异率) between schools."""

    __tablename__ = "quality_result"

    report_id: Mapped[UUID] = mapped_column(ForeignKey("agency_report.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    subject: Mapped[str] = mapped_column(String(40))
    attainment_level: Mapped[int] = mapped_column(SmallInteger)
    difference_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))

    __table_args__ = (
        UniqueConstraint("report_id", "county_code", "subject"),
        CheckConstraint("attainment_level BETWEEN 1 AND 4", name="level_in_range"),
        CheckConstraint("difference_rate >= 0", name="rate_not_negative"),
    )


class DeliverableReview(IdMixin, Base):
    """The office's guidance on a submission (二五): accepted, or returned with comments."""

    __tablename__ = "deliverable_review"

    deliverable_id: Mapped[UUID] = mapped_column(ForeignKey("commission_deliverable.id"), index=True)
    report_id: Mapped[UUID] = mapped_column(ForeignKey("agency_report.id"))
    division_code: Mapped[str] = mapped_column(String(6))
    decision: Mapped[ReviewDecision] = mapped_column(enum_column(ReviewDecision, 10))
    comments: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("decision = 'accept' OR comments IS NOT NULL", name="return_has_comments"),
        division_index("deliverable_review"),
    )
