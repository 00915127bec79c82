"""Tables of the rectification capability (schemaless KitModel: each service keeps them in its schema)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, KitModel, enum_column


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    SERIOUS = "serious"


class UnitKind(StrEnum):
    SCHOOL = "school"
    GOVERNMENT = "government"
    DEPARTMENT = "department"


class OriginKind(StrEnum):
    SUPERVISION = "supervision"  # a comprehensive or special supervision (督导)
    VISIT = "visit"  # a responsible inspector's visit (督学)
    EVALUATION = "evaluation"  # an evaluation or monitoring task (评估监测)


class DeadlineKind(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


class RectificationStatus(StrEnum):
    OPEN = "open"  # the unit is rectifying (also after a rejection or a reopening)
    SUBMITTED = "submitted"  # a report waits for the inspector's decision
    CLOSED = "closed"  # the report was accepted: closed out (销号)


class ReportDecision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RecheckResult(StrEnum):
    CONFIRMED = "confirmed"
    REOPENED = "reopened"


class Finding(IdMixin, KitModel):
    __tablename__ = "finding"

    origin_kind: Mapped[OriginKind] = mapped_column(enum_column(OriginKind, 20))
    origin_ref: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(60))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 10))
    description: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))
    unit_id: Mapped[str] = mapped_column(String(100))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 20))
    unit_name: Mapped[str] = mapped_column(String(200))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    office_division: Mapped[str] = mapped_column(String(6))
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime]

    rectification: Mapped[Rectification] = relationship(back_populates="finding", lazy="raise")


class Rectification(IdMixin, KitModel):
    """The rectification requirement (整改要求) of one finding, with its current deadline."""

    __tablename__ = "rectification"

    finding_id: Mapped[UUID] = mapped_column(ForeignKey("finding.id"), unique=True)
    requirement: Mapped[str] = mapped_column(Text)
    deadline_kind: Mapped[DeadlineKind] = mapped_column(enum_column(DeadlineKind, 10))
    deadline_days: Mapped[int]
    started_on: Mapped[date]
    deadline: Mapped[date]
    provisional_deadline: Mapped[bool]
    status: Mapped[RectificationStatus] = mapped_column(enum_column(RectificationStatus, 10))
    # The deadline whose passing was already reported, so each deadline is overdue once.
    overdue_deadline: Mapped[date | None]
    escalation_level: Mapped[int] = mapped_column(default=0)
    last_step_kind: Mapped[str | None] = mapped_column(String(40))
    # Denormalised from the finding: every list filters on them.
    unit_id: Mapped[str] = mapped_column(String(100))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    office_division: Mapped[str] = mapped_column(String(6))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    finding: Mapped[Finding] = relationship(back_populates="rectification", lazy="raise")
    reports: Mapped[list[RectificationReport]] = relationship(
        back_populates="rectification", lazy="raise", order_by="RectificationReport.submitted_at"
    )
    steps: Mapped[list[RectificationStep]] = relationship(
        lazy="raise", order_by="RectificationStep.step_index"
    )
    rechecks: Mapped[list[Recheck]] = relationship(lazy="raise", order_by="Recheck.checked_at")

    @property
    def overdue(self) -> bool:
        """The current deadline passed without an accepted report (the overdue fact was emitted)."""
        return self.status != RectificationStatus.CLOSED and self.overdue_deadline == self.deadline

    __table_args__ = (
        CheckConstraint("deadline_days > 0", name="deadline_days_positive"),
        Index("ix_rectification_due", "status", "deadline"),
        Index(
            "ix_rectification_division_code",
            "division_code",
            postgresql_ops={"division_code": "text_pattern_ops"},
        ),
        Index("ix_rectification_unit_id", "unit_id"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class RectificationReport(IdMixin, KitModel):
    """The unit's rectification report (整改报告) and the inspector's decision on it."""

    __tablename__ = "rectification_report"

    rectification_id: Mapped[UUID] = mapped_column(ForeignKey("rectification.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()))
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime]
    decision: Mapped[ReportDecision | None] = mapped_column(enum_column(ReportDecision, 10))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    rejection_reasons: Mapped[str | None] = mapped_column(Text)
    reply_due: Mapped[date | None]
    reply: Mapped[str | None] = mapped_column(Text)  # the unit's reply (申辩) to a rejection
    replied_at: Mapped[datetime | None]

    rectification: Mapped[Rectification] = relationship(back_populates="reports", lazy="raise")


class Recheck(IdMixin, KitModel):
    """A recheck (复查) after close-out, which confirms it or reopens the rectification."""

    __tablename__ = "rectification_recheck"

    rectification_id: Mapped[UUID] = mapped_column(ForeignKey("rectification.id"), index=True)
    result: Mapped[RecheckResult] = mapped_column(enum_column(RecheckResult, 10))
    notes: Mapped[str] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime]


class RectificationStep(IdMixin, KitModel):
    """An escalation step accountability took, as the rectification shows it."""

    __tablename__ = "rectification_step"

    rectification_id: Mapped[UUID] = mapped_column(ForeignKey("rectification.id"), index=True)
    case_id: Mapped[UUID]
    step_id: Mapped[UUID] = mapped_column(unique=True)  # a redelivered step is recorded once
    step_index: Mapped[int]
    step_kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(20))
    document_number: Mapped[str | None] = mapped_column(String(60))
    new_deadline: Mapped[date | None]
    taken_at: Mapped[datetime]


class RectificationReminder(KitModel):
    """A reminder sent before a deadline; its key makes each reminder a one-time fact."""

    __tablename__ = "rectification_reminder"

    rectification_id: Mapped[UUID] = mapped_column(ForeignKey("rectification.id"), primary_key=True)
    deadline: Mapped[date] = mapped_column(primary_key=True)
    days_before: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime]
