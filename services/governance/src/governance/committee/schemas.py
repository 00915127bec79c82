"""API shapes of committees, member units and liaisons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.schemas import DivisionCode, StrictModel, Uuid

Name = Annotated[str, Field(min_length=1, max_length=200)]
PersonName = Annotated[str, Field(min_length=1, max_length=50)]
Post = Annotated[str, Field(min_length=1, max_length=100, description="e.g. 副主席, 总督学")]
Duties = Annotated[str, Field(min_length=1, max_length=5_000, description="The member unit's duties")]
Phone = Annotated[
    str,
    Field(
        pattern=r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$",
        description="A mobile number or a landline with its area code (0771-5551234)",
    ),
]
Email = Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Person(StrictModel):
    name: PersonName
    post: Post


People = Annotated[list[Person], Field(max_length=30)]


class CommitteeCreate(StrictModel):
    division_code: DivisionCode
    name: Name
    office_id: Uuid = Field(description="The division's supervision office, which does the daily work")
    chair: Person
    vice_chairs: People = Field(default_factory=list)
    chief_inspector: Person | None = Field(default=None, description="总督学")
    deputy_chief_inspectors: People = Field(default_factory=list, description="副总督学")


class CommitteeUpdate(StrictModel):
    """The fields sent are changed; ``chief_inspector: null`` clears it."""

    name: Name | None = None
    chair: Person | None = None
    vice_chairs: People | None = None
    chief_inspector: Person | None = None
    deputy_chief_inspectors: People | None = None


class MemberCreate(StrictModel):
    name: Name
    duties: Duties


class MemberUpdate(StrictModel):
    name: Name | None = None
    duties: Duties | None = None


class LiaisonCreate(StrictModel):
    name: PersonName
    post: Post
    phone: Phone
    email: Email | None = None


class LiaisonUpdate(StrictModel):
    """The fields sent are changed; ``email: null`` clears it."""

    name: PersonName | None = None
    post: Post | None = None
    phone: Phone | None = None
    email: Email | None = None


class PersonRead(BaseModel):
    name: str
    post: str


class CommitteeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    name: str
    office_id: UUID
    chair: PersonRead
    vice_chairs: list[PersonRead]
    chief_inspector: PersonRead | None
    deputy_chief_inspectors: list[PersonRead]
    version: int
    created_at: datetime
    updated_at: datetime


class CommitteePage(BaseModel):
    items: list[CommitteeRead]
    next_cursor: str | None


class LiaisonRead(BaseModel):
    """Contacts in full for the office and the liaison's own member unit, masked for anyone else."""

    id: UUID
    member_id: UUID
    name: str
    post: str
    phone: str
    email: str | None
    masked: bool
    version: int
    updated_at: datetime


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    committee_id: UUID
    name: str
    duties: str
    version: int
    created_at: datetime
    updated_at: datetime


class MemberDirectoryEntry(MemberRead):
    liaisons: list[LiaisonRead]


class CommitteeDirectory(CommitteeRead):
    """The committee with its member units and their liaisons."""

    members: list[MemberDirectoryEntry]
