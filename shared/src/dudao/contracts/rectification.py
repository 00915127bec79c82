"""Rectification events (整改), emitted by every service that raises findings.

governance, school-inspection and monitoring all run the kit's rectification capability, so each
event exists once per origin: ``dudao.<origin>.rectification.<event>.v1``. Consumers subscribe per
origin and type their handlers against the base classes below.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from dudao.events.catalog import Event
from dudao.ids import derived_id

Origin = Literal["governance", "inspection", "monitoring"]
ORIGINS: tuple[Origin, ...] = ("governance", "inspection", "monitoring")


class RectificationEvent(Event):
    """What every rectification event says about the finding, the unit and the deadline."""

    origin: Origin
    rectification_id: str
    finding_id: str
    category: str
    severity: str
    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    office_division: str  # the supervision office that raised the finding and issues the documents
    deadline: date
    provisional_deadline: bool

    def subject(self) -> str:
        return self.rectification_id


class RectificationOpened(RectificationEvent):
    requirement: str


class RectificationDueSoon(RectificationEvent):
    days_before: int

    def event_id(self) -> UUID:
        return derived_id(self.rectification_id, self.deadline, "due_soon", self.days_before)


class RectificationOverdue(RectificationEvent):
    """The deadline passed without an accepted report: one fact per (rectification, deadline)."""

    def event_id(self) -> UUID:
        return derived_id(self.rectification_id, self.deadline, "overdue")


class RectificationSubmitted(RectificationEvent):
    report_id: str


class RectificationAccepted(RectificationEvent):
    report_id: str


class RectificationRejected(RectificationEvent):
    report_id: str
    reasons: str


class RectificationReopened(RectificationEvent):
    recheck_id: str
    notes: str


class RectificationClosed(RectificationEvent):
    pass


class RectificationDeadlineRecomputed(RectificationEvent):
    """A provisional deadline became final when its year's holiday calendar was published."""

    previous_deadline: date


_KINDS: dict[str, type[RectificationEvent]] = {
    "opened": RectificationOpened,
    "due_soon": RectificationDueSoon,
    "overdue": RectificationOverdue,
    "submitted": RectificationSubmitted,
    "accepted": RectificationAccepted,
    "rejected": RectificationRejected,
    "reopened": RectificationReopened,
    "closed": RectificationClosed,
    "deadline_recomputed": RectificationDeadlineRecomputed,
}


def _per_origin(origin: Origin, kind: str, base: type[RectificationEvent]) -> type[RectificationEvent]:
    name = f"{origin.capitalize()}{base.__name__}"
    attributes: dict[str, object] = {
        "event_type": f"dudao.{origin}.rectification.{kind}.v1",
        "__module__": __name__,
        "__qualname__": name,
    }
    return type(name, (base,), attributes)


# EVENTS["inspection"]["overdue"] is the class whose type is dudao.inspection.rectification.overdue.v1.
EVENTS: dict[str, dict[str, type[RectificationEvent]]] = {
    origin: {kind: _per_origin(origin, kind, base) for kind, base in _KINDS.items()} for origin in ORIGINS
}


def event_for(origin: str, kind: str) -> type[RectificationEvent]:
    return EVENTS[origin][kind]


StepKind = Literal["urging_order", "interview", "circular", "accountability_decision"]


class EscalationStepTaken(Event):
    """Accountability took a step of the ladder; the originating service shows it and moves the deadline."""

    event_type: ClassVar[str] = "dudao.accountability.escalation.step_taken.v1"
    case_id: str
    step_id: str
    origin: Origin | None  # None for a step without a rectification (by hand, or on visits behind)
    rectification_id: str | None
    step_index: int
    step_kind: StepKind
    # visits_behind: a school's routine visits fell short by a semester's end (SchoolVisitsBehind)
    reason: Literal["overdue", "rejected", "manual", "visits_behind"]
    document_number: str | None
    new_deadline: date | None

    def subject(self) -> str:
        return self.case_id


class EscalationClosed(Event):
    event_type: ClassVar[str] = "dudao.accountability.escalation.closed.v1"
    case_id: str
    origin: Origin
    rectification_id: str

    def subject(self) -> str:
        return self.case_id
