"""The evidence table (schemaless KitModel: each service keeps it in its schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, KitModel


class EvidenceFile(IdMixin, KitModel):
    """An uploaded evidence file; its bytes live in the evidence storage under ``storage_key``."""

    __tablename__ = "evidence_file"

    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    division_code: Mapped[str] = mapped_column(String(6))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime]
