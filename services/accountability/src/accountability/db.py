"""The ``accountability`` schema: its declarative base and the kit's tables in it."""

from sqlalchemy.orm import DeclarativeBase

from dudao.db import TYPE_ANNOTATION_MAP, schema_metadata
from dudao.tables import kit_tables

SCHEMA = "accountability"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)
    type_annotation_map = TYPE_ANNOTATION_MAP


kit = kit_tables(Base.metadata)
