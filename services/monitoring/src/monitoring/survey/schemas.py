"""API shapes of satisfaction surveys: the office's, and the public form and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dudao.calendar.schemas import Year
from dudao.schemas import DivisionCode, StrictModel, Timestamp, Uuid, enum_field
from monitoring.survey.models import Audience, SurveyStatus

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Token = Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _unique(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} code {code!r} appears twice")
        seen.add(code)


class Option(StrictModel):
    code: Code
    label: Label
    satisfied: bool = Field(description="Counts as satisfied (满意) in the rate")


class Question(StrictModel):
    """A question answered by choosing one option; the rate counts every question with a satisfied option."""

    code: Code
    text: str = Field(min_length=1, max_length=500)
    options: list[Option] = Field(min_length=2, max_length=10)

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[Option]) -> list[Option]:
        _unique([o.code for o in options], "option")
        return options


class SurveyCreate(StrictModel):
    title: Label
    division_code: DivisionCode = Field(description="The county surveyed")
    school_id: Uuid | None = Field(default=None, description="A school of the county (on the roster)")
    audience: Audience = enum_field()
    year: Year
    questions: list[Question] = Field(min_length=1, max_length=100)

    @field_validator("questions")
    @classmethod
    def _distinct(cls, questions: list[Question]) -> list[Question]:
        _unique([q.code for q in questions], "question")
        return questions


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    division_code: str
    school_id: UUID | None
    audience: Audience
    year: int
    questions: list[Question]
    status: SurveyStatus
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class SurveyPage(BaseModel):
    items: list[SurveyRead]
    next_cursor: str | None


class LinksCreate(StrictModel):
    count: int = Field(ge=1, le=5000, description="How many single-use links")
    expires_at: Timestamp = Field(description="After this the links take no answers")


class LinksIssued(BaseModel):
    """The tokens, shown this once: only their hashes are kept. A link carries its token after ``#`` (the
    fragment, which no server or log sees); the form posts it in the body."""

    survey_id: UUID
    expires_at: datetime
    tokens: list[str]


class FormRequest(StrictModel):
    token: Token


class FormOption(BaseModel):
    code: str
    label: str


class FormQuestion(BaseModel):
    code: str
    text: str
    options: list[FormOption]


class FormRead(BaseModel):
    title: str
    audience: Audience
    year: int
    questions: list[FormQuestion]
    expires_at: datetime


class AnswerCreate(StrictModel):
    token: Token
    answers: dict[Code, Code] = Field(description="The chosen option's code by question code, every question")


class AnswerAccepted(BaseModel):
    survey_title: str
    answered_on: date


class CountyRate(BaseModel):
    division_code: str
    year: int
    answers: int
    rated: int
    satisfied: int
    rate: float | None = Field(description="satisfied / rated; None without answers")


class CountyRates(BaseModel):
    year: int
    items: list[CountyRate]


class RatesPublish(StrictModel):
    """Write the counties' rates into the balanced-development data (``recognition.4_1``)."""

    year: Year
    within: str | None = Field(default=None, pattern=r"^[1-9][0-9]{1,5}$")
