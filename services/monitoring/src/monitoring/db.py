"""The ``monitoring`` schema: its declarative base and the kit's tables in it."""

from dudao.db import declarative_base
from dudao.tables import kit_tables

SCHEMA = "monitoring"
Base = declarative_base(SCHEMA)
kit = kit_tables(Base.metadata)
