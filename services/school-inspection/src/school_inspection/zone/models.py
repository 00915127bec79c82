"""Inspection zones (督学责任区): groups of a county's schools."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index
from school_inspection.db import Base
from school_inspection.school.models import School


class InspectionZone(IdMixin, Base):
    __tablename__ = "inspection_zone"

    division_code: Mapped[str] = mapped_column(String(6))  # a county
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("division_code", "name"),
        division_index("inspection_zone"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class ZoneSchool(Base):
    """A school in a zone; the school is the key, so it belongs to one zone at most."""

    __tablename__ = "inspection_zone_school"

    school_id: Mapped[UUID] = mapped_column(ForeignKey(School.id), primary_key=True)
    zone_id: Mapped[UUID] = mapped_column(ForeignKey(InspectionZone.id), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
