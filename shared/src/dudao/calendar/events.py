"""Events of the holiday calendar and of the suite's clock."""

from __future__ import annotations

from typing import Literal

from dudao.events.catalog import Event

CalendarSource = Literal["chinese-calendar", "administrator"]


class CalendarYearPublished(Event):
    """A year's holidays became known (or were corrected): provisional deadlines in it are recomputed.

    ``division`` is the publisher's; the calendar itself holds for every division.
    """

    event_type = "dudao.common.calendar.year_published.v1"
    year: int
    source: CalendarSource

    def subject(self) -> str:
        return str(self.year)


class ClockMoved(Event):
    """The suite's clock moved: every process sets its clock to ``offset_seconds`` ahead of real time."""

    event_type = "dudao.common.clock.moved.v1"
    offset_seconds: float
    version: int
