"""Governance's facts that accountability acted on, each once whatever its deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast
from uuid import UUID

from sqlalchemy import String, Table
from sqlalchemy.orm import Mapped, mapped_column

from accountability.db import Base
from dudao.db import IdMixin, division_index, enum_column


class GovernanceFactKind(StrEnum):
    DUTY_EVALUATION_CONCLUDED = "duty_evaluation_concluded"
    EVALUATION_ROUND_PUBLISHED = "evaluation_round_published"
    FILING_MISSING = "filing_missing"
    EMERGENCY_REPORT_OVERDUE = "emergency_report_overdue"


class GovernanceFact(IdMixin, Base):
    """A fact of governance (an evaluation concluded, a round published, a filing missing, an emergency
    report late) as accountability heard it, once: its consequences follow only the first time."""

    __tablename__ = "governance_fact"

    # The event's id, derived by governance from what it is about: the same fact under another event id
    # is recognised.
    fact_id: Mapped[UUID] = mapped_column(unique=True)
    kind: Mapped[GovernanceFactKind] = mapped_column(enum_column(GovernanceFactKind, 30))
    subject: Mapped[str] = mapped_column(String(100))  # the evaluation, round, filing or supervision
    division_code: Mapped[str] = mapped_column(String(6))
    occurred_at: Mapped[datetime]

    __table_args__ = (division_index("governance_fact"),)


GOVERNANCE_FACTS = cast(Table, GovernanceFact.__table__)
