"""Tables of the holiday calendar and of the suite's clock, in the ``common`` schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dudao.common.models import CommonBase

FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarYear(CommonBase):
    """A year whose holidays are known; its every day is in ``calendar_day``."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(f"year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}", name="year_range"),
        CheckConstraint("source IN ('chinese-calendar', 'administrator')", name="source"),
    )


class CalendarDay(CommonBase):
    """One day of a known year: working or not, and why (``春节``, ``调休上班（国庆节）``, or none)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    name: Mapped[str | None] = mapped_column(String(100))


class ProvisionalDeadlineAllowance(CommonBase):
    """An office lets its whole jurisdiction set provisional deadlines in a year not yet published."""

    __tablename__ = "provisional_deadline_allowance"

    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    allowed_by: Mapped[str] = mapped_column(String(200))
    allowed_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(f"year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}", name="year_range"),)


class ClockOffset(CommonBase):
    """The suite's clock offset from real time (one row): development, tests and demos move it forward.

    ``version`` grows with every move, so a process that hears of two moves out of order keeps the later.
    """

    __tablename__ = "clock_offset"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    offset_seconds: Mapped[float]
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
