"""The ``accountability`` schema: its declarative base and the kit's tables in it."""

from enum import StrEnum

from sqlalchemy import Enum, Index
from sqlalchemy.orm import DeclarativeBase

from dudao.db import TYPE_ANNOTATION_MAP, schema_metadata
from dudao.tables import kit_tables

SCHEMA = "accountability"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)
    type_annotation_map = TYPE_ANNOTATION_MAP


kit = kit_tables(Base.metadata)


def stored_as_value(enum: type[StrEnum], length: int) -> Enum:
    """A ``StrEnum`` column that stores the members' values (``urging_order``), not their names."""
    return Enum(enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def division_index(table: str) -> Index:
    """The index that serves jurisdiction prefixes (``division_code LIKE '4501%'``)."""
    return Index(
        f"ix_{table}_division_code", "division_code", postgresql_ops={"division_code": "text_pattern_ops"}
    )
