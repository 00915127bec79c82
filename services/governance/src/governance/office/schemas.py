"""API shapes of supervision offices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel

OfficeName = Annotated[
    str, Field(min_length=1, max_length=200, description="e.g. 南宁市人民政府教育督导委员会办公室")
]
Abbreviation = Annotated[
    str,
    Field(
        pattern=r"^[\u4e00-\u9fff]{2,10}$",
        description="机关代字 its document numbers use, e.g. 桂教督 (2 to 10 Chinese characters)",
    ),
]


class OfficeCreate(StrictModel):
    division_code: DivisionCode
    name: OfficeName
    abbreviation: Abbreviation


class OfficeUpdate(StrictModel):
    name: OfficeName | None = None
    abbreviation: Abbreviation | None = None


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    superior_division: str | None
    name: str
    abbreviation: str
    version: int
    created_at: datetime
    updated_at: datetime


class OfficePage(BaseModel):
    items: list[OfficeRead]
    next_cursor: str | None
