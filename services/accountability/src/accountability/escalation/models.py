"""Escalation: the versioned ladders, one case per rectification, and the steps taken on it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accountability.db import SCHEMA, Base
from accountability.documents.models import Document, DocumentKind
from dudao.db import IdMixin, division_index, enum_column


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class StepReason(StrEnum):
    OVERDUE = "overdue"
    REJECTED = "rejected"
    MANUAL = "manual"
    VISITS_BEHIND = "visits_behind"  # a school's routine visits fell short by the end of a semester
    DUTY_EVALUATION = "duty_evaluation"  # a government's duty evaluation failed or missed targets
    REPORT_OVERDUE = "report_overdue"  # an emergency supervision's first report came late


class FactOutcome(StrEnum):
    """What a rectification fact did to its case."""

    NOTED = "noted"  # recorded only (opened, a reminder, a fact on a case already closed)
    STEP_TAKEN = "step_taken"
    LADDER_EXHAUSTED = "ladder_exhausted"  # overdue or rejected again after the ladder's last step
    CLOSED = "closed"
    REOPENED = "reopened"


class EscalationLadder(IdMixin, Base):
    """One version of the ladder for a finding category and a division prefix (NULL: any, anywhere)."""

    __tablename__ = "escalation_ladder"

    version: Mapped[int]
    finding_category: Mapped[str | None] = mapped_column(String(100))
    division_prefix: Mapped[str | None] = mapped_column(String(6))
    # [{"kind": "urging_order", "new_deadline_days": 15}, …], in the order they are taken.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        # NULL scopes are one scope: two default ladders of the same version are a conflict.
        UniqueConstraint(
            "finding_category", "division_prefix", "version", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("jsonb_array_length(steps) >= 1", name="has_steps"),
    )


class EscalationCase(IdMixin, Base):
    """The escalation of one rectification, with a snapshot of its finding and unit from the events."""

    __tablename__ = "escalation_case"

    origin: Mapped[str] = mapped_column(String(20))
    rectification_id: Mapped[str] = mapped_column(String(64))
    finding_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(30))
    requirement: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(String(64))
    unit_kind: Mapped[str] = mapped_column(String(30))
    unit_name: Mapped[str] = mapped_column(String(200))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    office_division: Mapped[str] = mapped_column(String(6))
    division_code: Mapped[str] = mapped_column(String(6))
    # The ladder the case started with: a newer version applies to new cases only.
    ladder_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_ladder.id"))
    ladder_version: Mapped[int]
    ladder_position: Mapped[int] = mapped_column(default=0)  # ladder steps taken
    step_count: Mapped[int] = mapped_column(default=0)  # all steps, manual ones included
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, 10))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    ladder: Mapped[EscalationLadder] = relationship(lazy="raise")
    steps: Mapped[list[EscalationStep]] = relationship(lazy="raise", order_by="EscalationStep.index")
    facts: Mapped[list[CaseFact]] = relationship(lazy="raise", order_by="CaseFact.id")
    documents: Mapped[list[Document]] = relationship(lazy="raise", order_by=Document.id)

    __table_args__ = (
        UniqueConstraint("origin", "rectification_id"),
        CheckConstraint("ladder_position >= 0 AND step_count >= ladder_position", name="step_counts"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when_closed_at"),
        division_index("escalation_case"),
        Index("ix_escalation_case_unit_id", "unit_id"),
    )


class CaseFact(IdMixin, Base):
    """The case's history: every rectification fact it heard, once, and what it did."""

    __tablename__ = "escalation_case_fact"

    case_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_case.id"))
    # Derived from what the fact is about, so the same fact under another event id is recognised.
    fact_id: Mapped[UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[date]
    outcome: Mapped[FactOutcome] = mapped_column(enum_column(FactOutcome, 20))
    occurred_at: Mapped[datetime]

    __table_args__ = (Index("ix_escalation_case_fact_case_id", "case_id"),)


class EscalationStep(IdMixin, Base):
    """A step taken: by the ladder on an overdue or rejected fact, by hand (with or without a case), or on
    a school's falling behind on routine visits (without a case)."""

    __tablename__ = "escalation_step"

    case_id: Mapped[UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_case.id"))
    index: Mapped[int]  # 0-based, within the case
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, 30))
    reason: Mapped[StepReason] = mapped_column(enum_column(StepReason, 20))
    # The fact that triggered it: one fact, one step, whatever the deliveries.
    trigger_event_id: Mapped[UUID | None] = mapped_column(unique=True)
    new_deadline: Mapped[date | None]
    document_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.document.id"), unique=True)
    division_code: Mapped[str] = mapped_column(String(6))
    grounds: Mapped[str | None] = mapped_column(Text)  # why a step was ordered by hand
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))

    document: Mapped[Document] = relationship(lazy="raise")

    @property
    def document_number(self) -> str | None:
        return self.document.number

    __table_args__ = (
        UniqueConstraint("case_id", "index"),
        CheckConstraint("index >= 0", name="index_not_negative"),
        CheckConstraint("(reason = 'manual') = (trigger_event_id IS NULL)", name="triggered_unless_manual"),
        division_index("escalation_step"),
    )


class VisitsBehindFact(IdMixin, Base):
    """A school that fell behind on routine visits (经常性督导), as school-inspection reported it, once.

    The county's supervision office answers for it: it is told at the semester's midpoint, and urged at
    its end by the step whose ``trigger_event_id`` is this ``fact_id``.
    """

    __tablename__ = "visits_behind_fact"

    # Derived from (school, semester, checkpoint), so the same fact under another event id is recognised.
    fact_id: Mapped[UUID] = mapped_column(unique=True)
    school_id: Mapped[str] = mapped_column(String(64))
    school_code: Mapped[str] = mapped_column(String(30))
    school_name: Mapped[str] = mapped_column(String(200))
    semester: Mapped[str] = mapped_column(String(20))
    checkpoint: Mapped[str] = mapped_column(String(10))
    checkpoint_date: Mapped[date]
    visits: Mapped[int]
    required: Mapped[int]
    division_code: Mapped[str] = mapped_column(String(6))  # the school's county, whose office answers
    occurred_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("checkpoint IN ('midpoint', 'end')", name="checkpoint"),
        CheckConstraint("visits >= 0 AND required >= 1", name="counts"),
        division_index("visits_behind_fact"),
        Index("ix_visits_behind_fact_school_id", "school_id"),
    )


# The tables, for set-based writes.
LADDERS = cast(Table, EscalationLadder.__table__)
CASES = cast(Table, EscalationCase.__table__)
FACTS = cast(Table, CaseFact.__table__)
STEPS = cast(Table, EscalationStep.__table__)
VISITS_BEHIND = cast(Table, VisitsBehindFact.__table__)
