"""API shapes of plates and complaint channels. The public plate carries nothing else about the inspector."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dudao.schemas import StrictModel
from school_inspection.school.schemas import PersonName, Phone
from school_inspection.visit.models import RoutineItem

ITEM_LABELS: dict[RoutineItem, str] = {
    RoutineItem.ADMINISTRATION: "学校管理与制度建设",
    RoutineItem.ENROLMENT_FEES: "招生、收费与择校",
    RoutineItem.CURRICULUM: "课程开设与课堂教学",
    RoutineItem.PUPIL_WORKLOAD: "学生学业、体育锻炼与课业负担",
    RoutineItem.TEACHER_ETHICS: "教师师德与专业发展",
    RoutineItem.CAMPUS_SAFETY: "校园、周边与交通安全",
    RoutineItem.HYGIENE: "食堂、饮食、饮水与宿舍卫生",
    RoutineItem.SCHOOL_ETHOS: "校风学风",
}

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
    inspector_name: PersonName
    photo_url: HttpsUrl
    contact_phone: Phone
    items: Items = Field(
        default_factory=lambda: list(RoutineItem), description="Supervision items shown; default all eight"
    )
    published: bool = Field(description="Only a published plate is readable by the public")


class PlateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    school_id: UUID
    division_code: str
    inspector_name: str
    photo_url: str
    contact_phone: str
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
    name: str
    photo_url: str
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
    responsible_inspector: PublicInspector
    supervision_items: list[PublicItem]
    complaint_channel: PublicChannel
    updated_at: datetime
