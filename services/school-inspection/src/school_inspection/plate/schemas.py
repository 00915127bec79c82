"""API shapes of plates and complaint channels. The public plate carries nothing else about the inspector."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dudao.schemas import StrictModel
from school_inspection.school.schemas import PersonName, Phone
from school_inspection.visit.models import RoutineItem

HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=500, description="An https:// URL")]


def _unique(items: list[RoutineItem]) -> list[RoutineItem]:
    if len(set(items)) != len(items):
        raise ValueError("an item is listed twice")
    return items


Items = Annotated[
    list[Annotated[RoutineItem, Field(strict=False)]],
    Field(min_length=1, max_length=len(RoutineItem)),
    AfterValidator(_unique),
]


class PlateWrite(StrictModel):
    """What the plate shows. Without the inspector fields it shows the school's current responsible
    inspector (责任督学): name, photo and phone from the inspector registry, following each assignment.
    With them (all three), it shows those instead."""

    inspector_name: PersonName | None = None
    photo_url: HttpsUrl | None = None
    contact_phone: Phone | None = None
    items: Items = Field(
        default_factory=lambda: list(RoutineItem), description="Supervision items shown; default all eight"
    )
    published: bool = Field(description="Only a published plate is readable by the public")

    @model_validator(mode="after")
    def _inspector_whole(self) -> Self:
        given = [self.inspector_name is not None, self.photo_url is not None, self.contact_phone is not None]
        if any(given) and not all(given):
            raise ValueError("give inspector_name, photo_url and contact_phone together, or none of them")
        return self


class PlateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    division_code: str
    inspector_name: str | None = Field(description="null: the plate shows the current responsible inspector")
    photo_url: str | None
    contact_phone: str | None
    items: list[RoutineItem]
    published: bool
    version: int
    updated_by: str
    updated_at: datetime


class ChannelWrite(StrictModel):
    phone: Phone | None = None
    url: HttpsUrl | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.phone is None and self.url is None:
            raise ValueError("give a phone number, a URL or both")
        return self


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    division_code: str
    phone: str | None
    url: str | None
    version: int
    updated_at: datetime


class PublicInspector(BaseModel):
    """All that is public about an inspector."""

    name: str
    photo_url: str | None
    phone: str


class PublicItem(BaseModel):
    code: RoutineItem
    label: str


class PublicChannel(BaseModel):
    phone: str | None
    url: str | None


class PublicPlate(BaseModel):
    """A school's plate as portals and QR codes show it."""

    school_code: str
    school_name: str
    responsible_inspector: PublicInspector | None = Field(
        description="null while the school has no responsible inspector"
    )
    supervision_items: list[PublicItem]
    complaint_channel: PublicChannel
    updated_at: datetime
