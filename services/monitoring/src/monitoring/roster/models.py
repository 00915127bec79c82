"""Monitoring's own copy of the school roster, kept from school-inspection's events.

Monitoring computes county indicators over every school; it keeps the roster locally instead of
calling school-inspection, so that a monitoring task never depends on another service being up.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from monitoring.db import Base


class RosterSchool(Base):
    __tablename__ = "roster_school"

    school_id: Mapped[UUID] = mapped_column(primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[str] = mapped_column(String(30))
    ownership: Mapped[str] = mapped_column(String(10))
    division_code: Mapped[str] = mapped_column(String(6))
    # From version 2 of the school events (balanced development's scope and pupils): unknown (None) for a
    # school known only from version 1; the stages are None too when only the total is known.
    enrolment: Mapped[int | None]
    pupils_primary: Mapped[int | None]
    pupils_junior: Mapped[int | None]
    pupils_senior: Mapped[int | None]
    teaching_point: Mapped[bool] = mapped_column(server_default=false())  # 教学点
    source_version: Mapped[int]
    synced_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "ix_roster_school_division_code",
            "division_code",
            postgresql_ops={"division_code": "text_pattern_ops"},
        ),
    )
