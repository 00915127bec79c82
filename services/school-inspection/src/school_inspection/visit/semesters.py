"""Semesters and the checkpoints of the routine-visit clock, from a policy's boundaries. Pure: no I/O.

A semester runs from its start date to the day before the next one starts (Asia/Shanghai dates): with
the default boundaries spring is 1 February – 31 July and autumn 1 August – 31 January, labelled by the
year it starts in (``2026-autumn`` ends on 31 January 2027). Its midpoint is the start plus half its
length in days, rounded down.

Two checkpoints per semester: at the midpoint a school needs at least half the required routine visits
(rounded up), counted before the midpoint; once the semester is over it needs all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from school_inspection.visit.models import Checkpoint


@dataclass(frozen=True)
class Boundaries:
    spring: tuple[int, int]  # (month, day) the spring semester starts
    autumn: tuple[int, int]

    def _starts(self, year: int) -> tuple[date, date]:
        return date(year, *self.spring), date(year, *self.autumn)

    def semester_of(self, day: date) -> Semester:
        spring, autumn = self._starts(day.year)
        if day >= autumn:
            return Semester(f"{day.year}-autumn", autumn, self._starts(day.year + 1)[0])
        if day >= spring:
            return Semester(f"{day.year}-spring", spring, autumn)
        return Semester(f"{day.year - 1}-autumn", self._starts(day.year - 1)[1], spring)


@dataclass(frozen=True)
class Semester:
    label: str
    start: date
    next_start: date  # the first day after it

    @property
    def end(self) -> date:
        return self.next_start - timedelta(days=1)

    @property
    def midpoint(self) -> date:
        return self.start + timedelta(days=(self.next_start - self.start).days // 2)


@dataclass(frozen=True)
class Due:
    """A checkpoint to check: visits in [semester.start, counted_before) must number at least ``needed``."""

    semester: Semester
    checkpoint: Checkpoint
    counted_before: date
    needed: int


def due_checkpoints(boundaries: Boundaries, required: int, today: date) -> list[Due]:
    """The checkpoints that have passed by ``today``: this semester's midpoint, the last one's end."""
    current = boundaries.semester_of(today)
    previous = boundaries.semester_of(current.start - timedelta(days=1))
    due = [Due(previous, Checkpoint.END, previous.next_start, required)]
    if today >= current.midpoint:
        due.append(Due(current, Checkpoint.MIDPOINT, current.midpoint, -(-required // 2)))
    return due
