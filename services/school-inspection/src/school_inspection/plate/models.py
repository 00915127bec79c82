"""Plates (挂牌督导): what a school's plate shows the public, and each county's complaint channel."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index
from school_inspection.db import Base
from school_inspection.school.models import School


class Plate(IdMixin, Base):
    """What the office publishes for a school: only a published plate is public.

    The inspector shown is the school's current responsible inspector (责任督学), unless the office set
    the three inspector fields to show someone else: all three, or none.
    """

    __tablename__ = "plate"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id), unique=True)
    division_code: Mapped[str] = mapped_column(String(6))  # the school's
    inspector_name: Mapped[str | None] = mapped_column(String(50))
    photo_url: Mapped[str | None] = mapped_column(String(500))
    contact_phone_sealed: Mapped[str | None] = mapped_column(Text)  # a person's phone: sealed at rest
    items: Mapped[list[str]] = mapped_column(ARRAY(String(30)))  # RoutineItem values, in display order
    published: Mapped[bool]
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("cardinality(items) > 0", name="has_items"),
        CheckConstraint(
            "num_nulls(inspector_name, photo_url, contact_phone_sealed) IN (0, 3)",
            name="inspector_whole",
        ),
        division_index("plate"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class ComplaintChannel(IdMixin, Base):
    """Where the public complains about a county's schools (投诉渠道): shown on every plate there."""

    __tablename__ = "complaint_channel"

    division_code: Mapped[str] = mapped_column(String(6), unique=True)  # a county
    phone: Mapped[str | None] = mapped_column(String(30))
    url: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("phone IS NOT NULL OR url IS NOT NULL", name="reachable"),)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
