"""Supervised units that are not schools (被督导单位): governments and their departments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from governance.db import Base


class SupervisedUnitKind(StrEnum):
    GOVERNMENT = "government"  # the people's government of a division
    DEPARTMENT = "department"  # one of its departments (教育局, 财政局 …)


class SupervisedUnitRecord(IdMixin, Base):
    """A registered unit; its id as text is the ``unit_id`` of its findings and the ``org`` of its people."""

    __tablename__ = "supervised_unit"

    kind: Mapped[SupervisedUnitKind] = mapped_column(enum_column(SupervisedUnitKind, 20))
    name: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    # 主管部门: jointly liable when the unit's rectification fails; a registered unit itself.
    competent_department_id: Mapped[UUID | None] = mapped_column(ForeignKey("supervised_unit.id"))
    # [{"name": "张三", "post": "副区长"}], the person answerable first.
    responsible_people: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("division_code", "name"),
        # One people's government per division.
        Index(
            "uq_supervised_unit_government",
            "division_code",
            unique=True,
            postgresql_where=text("kind = 'government'"),
        ),
        division_index("supervised_unit"),
        Index("ix_supervised_unit_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    @property
    def unit_id(self) -> str:
        return str(self.id)

    @property
    def competent_department(self) -> str | None:
        """The competent department's unit id, as findings name it."""
        return None if self.competent_department_id is None else str(self.competent_department_id)

    @property
    def responsible_person(self) -> str | None:
        """The person answerable first, as documents name them: ``张三（副区长）``."""
        if not self.responsible_people:
            return None
        first = self.responsible_people[0]
        return f"{first['name']}（{first['post']}）"
