"""API shapes of schools. Strict: ``false`` is not a number and ``"3"`` is not an enum member."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel, enum_field
from school_inspection.school.models import Ownership, SchoolType

SchoolCode = Annotated[str, Field(pattern=r"^[0-9]{10}$", description="学校标识码, 10 digits")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(min_length=1, max_length=300)]
Enrolment = Annotated[int, Field(ge=0, le=200_000, description="Pupils enrolled")]


class SchoolCreate(StrictModel):
    school_code: SchoolCode
    name: Name
    school_type: SchoolType = enum_field()
    ownership: Ownership = enum_field()
    division_code: DivisionCode
    address: Address
    enrolment: Enrolment = 0


class SchoolUpdate(StrictModel):
    name: Name | None = None
    school_type: SchoolType | None = enum_field(default=None)
    ownership: Ownership | None = enum_field(default=None)
    address: Address | None = None
    enrolment: Enrolment | None = None


class SchoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_code: str
    name: str
    school_type: SchoolType
    ownership: Ownership
    division_code: str
    address: str
    enrolment: int
    version: int
    created_at: datetime
    updated_at: datetime


class SchoolPage(BaseModel):
    items: list[SchoolRead]
    next_cursor: str | None
