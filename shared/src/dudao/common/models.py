"""Tables of the ``common`` schema."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dudao.db import KIT_SCHEMA, TYPE_ANNOTATION_MAP, IdMixin, schema_metadata
from dudao.tables import kit_tables


class CommonBase(DeclarativeBase):
    metadata = schema_metadata(KIT_SCHEMA)
    type_annotation_map = TYPE_ANNOTATION_MAP


common_kit = kit_tables(CommonBase.metadata)


class DivisionRow(CommonBase):
    __tablename__ = "division"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(String(6))

    __table_args__ = (CheckConstraint("level IN ('region', 'city', 'county')", name="level"),)


class ApiKey(IdMixin, CommonBase):
    """A machine client's key. Only its SHA-256 is stored; the key itself is shown once, at issue."""

    __tablename__ = "api_key"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    division_code: Mapped[str] = mapped_column(String(6))
    scope_services: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    scope_operations: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    scope_divisions: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    replaces_id: Mapped[UUID | None]
