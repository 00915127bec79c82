"""Education supervision committees (教育督导委员会), their member units (成员单位) and the liaisons (联络员)
each member unit names."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index
from governance.db import Base
from governance.office.models import SupervisionOffice


class Committee(IdMixin, Base):
    __tablename__ = "committee"

    division_code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The office that does the committee's daily work (the division's own).
    office_id: Mapped[UUID] = mapped_column(ForeignKey(SupervisionOffice.id))
    # People as {"name": …, "post": …}: the chair, vice chairs, chief and deputy chief inspectors.
    chair: Mapped[dict[str, Any]]
    vice_chairs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    chief_inspector: Mapped[dict[str, Any] | None]
    deputy_chief_inspectors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        division_index("committee"),
        Index("ix_committee_updated_at", "updated_at", "id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class CommitteeMember(IdMixin, Base):
    """A member unit; its id as text is the ``org`` of its people (role member_unit)."""

    __tablename__ = "committee_member"

    committee_id: Mapped[UUID] = mapped_column(ForeignKey(Committee.id))
    division_code: Mapped[str] = mapped_column(String(6))  # the committee's
    name: Mapped[str] = mapped_column(String(200))  # e.g. 自治区纪委监委, 自治区党委组织部
    duties: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("committee_id", "name"),
        division_index("committee_member"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class Liaison(IdMixin, Base):
    """A liaison officer; the contacts are personal data, sealed at rest (``dudao.encryption``)."""

    __tablename__ = "liaison"

    member_id: Mapped[UUID] = mapped_column(ForeignKey(CommitteeMember.id))
    committee_id: Mapped[UUID] = mapped_column(ForeignKey(Committee.id))
    division_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(100))
    phone_sealed: Mapped[str] = mapped_column(Text)
    email_sealed: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_liaison_committee_id", "committee_id"),
        Index("ix_liaison_member_id", "member_id"),
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook
