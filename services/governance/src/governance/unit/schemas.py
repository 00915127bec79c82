"""API shapes of supervised units. Strict: ``false`` is not a name and ``"3"`` is not a kind."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel, Uuid, enum_field
from governance.unit.models import SupervisedUnitKind

UnitName = Annotated[
    str, Field(min_length=1, max_length=200, description="e.g. 江南区人民政府, 江南区教育局")
]
PersonName = Annotated[str, Field(min_length=1, max_length=50)]
Post = Annotated[str, Field(min_length=1, max_length=100, description="e.g. 副区长, 局长")]


class ResponsiblePerson(StrictModel):
    """A person answerable for the unit (interviews and circulars name them)."""

    name: PersonName
    post: Post


ResponsiblePeople = Annotated[
    list[ResponsiblePerson], Field(max_length=20, description="The person answerable first comes first")
]


class SupervisedUnitCreate(StrictModel):
    kind: SupervisedUnitKind = enum_field()
    name: UnitName
    division_code: DivisionCode
    competent_department_id: Uuid | None = Field(
        default=None, description="主管部门: a registered unit within your jurisdiction"
    )
    responsible_people: ResponsiblePeople = Field(default_factory=list)


class SupervisedUnitUpdate(StrictModel):
    """The fields sent are changed; ``competent_department_id: null`` clears it."""

    name: UnitName | None = None
    competent_department_id: Uuid | None = None
    responsible_people: ResponsiblePeople | None = None


class SupervisedUnitImport(StrictModel):
    """Units registered together in one transaction, all or none."""

    units: list[SupervisedUnitCreate] = Field(min_length=1, max_length=5_000)


class ResponsiblePersonRead(BaseModel):
    name: str
    post: str


class SupervisedUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: SupervisedUnitKind
    name: str
    division_code: str
    competent_department_id: UUID | None
    responsible_people: list[ResponsiblePersonRead]
    version: int
    created_at: datetime
    updated_at: datetime


class SupervisedUnitPage(BaseModel):
    items: list[SupervisedUnitRead]
    next_cursor: str | None


class ImportedUnits(BaseModel):
    inserted: int
    ids: list[UUID]
