"""API shapes of the holiday calendar."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from dudao.calendar.models import FIRST_YEAR, LAST_YEAR
from dudao.schemas import DivisionCode, StrictModel

DeadlineKind = Literal["calendar", "working"]


def _iso_string(value: Any) -> Any:
    if not isinstance(value, (str, dt.date)):
        raise ValueError("must be an ISO 8601 date string")
    return value


# JSON carries dates as strings, which a strict date field would refuse; a number is still refused.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_string), Field(strict=False)]
DayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]


class NamedDay(StrictModel):
    date: IsoDate
    name: DayName = Field(description="春节, 国庆节, 调休上班 …")


class CalendarYearPublish(StrictModel):
    holidays: list[NamedDay] = Field(
        min_length=1, max_length=366, description="Days off (放假), weekend days of a holiday included"
    )
    adjusted_working_days: list[NamedDay] = Field(
        default_factory=list, max_length=120, description="Weekend days made working days (调休上班)"
    )


class CalendarYearRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    source: Literal["chinese-calendar", "administrator"]
    published_at: dt.datetime
    published_by: str


class CalendarDayRead(BaseModel):
    date: dt.date
    working: bool
    name: str | None


class CalendarDays(BaseModel):
    days: list[CalendarDayRead] = Field(description="Every day of the range in a year with holiday data")
    unknown_years: list[int] = Field(description="Years of the range with no holiday data yet")


class DeadlineRead(BaseModel):
    start: dt.date
    days: int
    kind: DeadlineKind
    office_division: str
    due: dt.date
    provisional: bool = Field(
        description="Counted Monday to Friday in a year with no holiday data yet; recomputed once published"
    )


class ProvisionalAllowanceCreate(StrictModel):
    division_code: DivisionCode = Field(
        description="The office's division; its whole jurisdiction is covered"
    )
    year: Year


class ProvisionalAllowanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    division_code: str
    year: int
    allowed_by: str
    allowed_at: dt.datetime
