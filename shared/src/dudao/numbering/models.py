"""Tables of the numbering capability (schemaless KitModel: each service keeps them in its schema)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import CheckConstraint, MetaData, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import NAMING_CONVENTION, KitModel


class DocumentSequence(KitModel):
    """The last serial issued per office, kind and year; incremented in the document's own transaction."""

    __tablename__ = "document_sequence"

    office_division: Mapped[str] = mapped_column(String(6), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)  # a key of KIND_CHARACTERS
    year: Mapped[int] = mapped_column(primary_key=True)
    last_serial: Mapped[int]

    __table_args__ = (CheckConstraint("last_serial >= 1", name="last_serial_positive"),)


class IssuingOffice(KitModel):
    """An office's abbreviation (机关代字), as governance last recorded it (SupervisionOfficeRecorded).

    A projection: governance keeps abbreviations unique, so this copy does not, lest two offices that
    swap abbreviations block each other's events arriving out of order.
    """

    __tablename__ = "issuing_office"

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    abbreviation: Mapped[str] = mapped_column(String(20))
    # None only for an abbreviation accountability kept itself before governance recorded the office.
    name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int]  # the event's; a stale one never overwrites a newer
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("version >= 0", name="version_not_negative"),)


# The tables, for set-based writes.
SEQUENCES = cast(Table, DocumentSequence.__table__)
ISSUING_OFFICES = cast(Table, IssuingOffice.__table__)


def only_these_tables() -> MetaData:
    """The capability's tables alone, for a service that keeps no other kit tables (``kit_models``)."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in (SEQUENCES, ISSUING_OFFICES):
        table.to_metadata(metadata)
    return metadata
