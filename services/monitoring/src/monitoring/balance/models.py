"""County balanced development (优质均衡): the verdicts given, and the findings they raised.

A verdict is kept with every figure behind it (``figures``), as it was computed: a later computation of
the same county and year replaces it and bumps its version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from monitoring.balance.compute import Status
from monitoring.db import Base
from monitoring.indicator.models import IndicatorSystem


class BalanceVerdict(IdMixin, Base):
    """A county's verdict for a year under an indicator system (M1's ``indicator_system.id``; its foreign
    key joins at the merge). ``division_code`` is the county."""

    __tablename__ = "balance_verdict"

    system_id: Mapped[UUID] = mapped_column(ForeignKey(IndicatorSystem.id))
    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    status: Mapped[Status] = mapped_column(enum_column(Status, 10))
    failed: Mapped[list[str]] = mapped_column(ARRAY(String(60)))  # the codes of the criteria not met
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB)  # schools, dispersion, criteria
    computed_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("system_id", "division_code", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        division_index("balance_verdict"),
        Index("ix_balance_verdict_updated_at", "updated_at", "id"),
    )


class BalanceFinding(Base):
    """A finding raised for a criterion a county failed in a year: raised once, however often the county
    is evaluated again (its rectification, in the kit's tables, goes on)."""

    __tablename__ = "balance_finding"

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    criterion: Mapped[str] = mapped_column(String(60), primary_key=True)
    verdict_id: Mapped[UUID]  # the verdict that failed it first
    rectification_id: Mapped[UUID]
    raised_at: Mapped[datetime]
