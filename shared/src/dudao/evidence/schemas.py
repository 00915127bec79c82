"""API shapes of evidence files, and how a record names the files it refers to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import Uuid

EvidenceIds = Annotated[list[Uuid], Field(max_length=50, description="Uploaded evidence files")]


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
