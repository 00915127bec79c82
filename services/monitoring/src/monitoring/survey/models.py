"""Satisfaction surveys (社会认可度调查): a county's or a school's, for one audience, with its questions as
data; single-use links that take one answer each without a login; the answers, anonymous.

Nothing personal is kept: a link is kept as its token's hash (the token itself is shown once, to the
office that issues it), an answer does not say which link it came by and carries its day only, and
the rate limiter keeps a keyed hash of the client address for the length of a window.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dudao.db import IdMixin, division_index, enum_column
from monitoring.db import Base


class Audience(StrEnum):
    PARENTS = "parents"  # 家长
    TEACHERS = "teachers"  # 教师
    PUPILS = "pupils"  # 学生


class SurveyStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Survey(IdMixin, Base):
    __tablename__ = "survey"

    title: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))  # the county
    school_id: Mapped[UUID | None]  # a school's survey; None: the county's
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, 10))
    year: Mapped[int]
    # [{code, text, options: [{code, label, satisfied}]}], as ``schemas.Question`` validates them.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[SurveyStatus] = mapped_column(enum_column(SurveyStatus, 10))
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_in_range"),
        division_index("survey"),
        Index("ix_survey_updated_at", "updated_at", "id"),
    )


class SurveyLink(IdMixin, Base):
    """A single-use link: its token's SHA-256, and whether it was used."""

    __tablename__ = "survey_link"

    survey_id: Mapped[UUID] = mapped_column(ForeignKey(Survey.id), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class SurveyAnswer(IdMixin, Base):
    """One anonymous answer: the option chosen per question, and how many of the rated ones satisfied."""

    __tablename__ = "survey_answer"

    survey_id: Mapped[UUID] = mapped_column(ForeignKey(Survey.id), index=True)
    division_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int]
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, 10))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)  # question code → option code
    rated: Mapped[int] = mapped_column(SmallInteger)
    satisfied: Mapped[int] = mapped_column(SmallInteger)
    answered_on: Mapped[date]

    __table_args__ = (
        CheckConstraint("satisfied BETWEEN 0 AND rated", name="satisfied_within_rated"),
        Index("ix_survey_answer_division_code_year", "division_code", "year"),
    )


class SurveyClientWindow(Base):
    """Answers and form reads per client address per fixed window, for the public routes' rate limit.

    In PostgreSQL because every replica must count the same client alike and the database is the store
    they share (the ``limits`` library would need Redis or memcached, which the deployment has not)."""

    __tablename__ = "survey_client_window"

    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # keyed hash of the address
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int]

    __table_args__ = (Index("ix_survey_client_window_window_start", "window_start"),)
