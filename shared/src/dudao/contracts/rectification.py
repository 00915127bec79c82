"""Rectification events (整改), emitted by every service that raises findings.

governance, school-inspection and monitoring each mount the kit's rectification capability, so each event
exists once per origin service: ``dudao.<origin>.rectification.<event>.v1``. The classes per origin are
declared below one by one (the catalog registers a class per type) and differ only in their type and in
the one origin their payload may name; consumers type their handlers against the base classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from dudao.events.catalog import Event
from dudao.ids import derived_id

# The service that raised the finding: its name, which is also the second token of its event types.
Origin = Literal["governance", "school-inspection", "monitoring"]
ORIGINS: tuple[Origin, ...] = ("governance", "school-inspection", "monitoring")


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


# governance


class GovernanceRectificationOpened(RectificationOpened):
    event_type = "dudao.governance.rectification.opened.v1"
    origin: Literal["governance"]


class GovernanceRectificationDueSoon(RectificationDueSoon):
    event_type = "dudao.governance.rectification.due_soon.v1"
    origin: Literal["governance"]


class GovernanceRectificationOverdue(RectificationOverdue):
    event_type = "dudao.governance.rectification.overdue.v1"
    origin: Literal["governance"]


class GovernanceRectificationSubmitted(RectificationSubmitted):
    event_type = "dudao.governance.rectification.submitted.v1"
    origin: Literal["governance"]


class GovernanceRectificationAccepted(RectificationAccepted):
    event_type = "dudao.governance.rectification.accepted.v1"
    origin: Literal["governance"]


class GovernanceRectificationRejected(RectificationRejected):
    event_type = "dudao.governance.rectification.rejected.v1"
    origin: Literal["governance"]


class GovernanceRectificationReopened(RectificationReopened):
    event_type = "dudao.governance.rectification.reopened.v1"
    origin: Literal["governance"]


class GovernanceRectificationClosed(RectificationClosed):
    event_type = "dudao.governance.rectification.closed.v1"
    origin: Literal["governance"]


class GovernanceRectificationDeadlineRecomputed(RectificationDeadlineRecomputed):
    event_type = "dudao.governance.rectification.deadline_recomputed.v1"
    origin: Literal["governance"]


# school-inspection


class SchoolInspectionRectificationOpened(RectificationOpened):
    event_type = "dudao.school-inspection.rectification.opened.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationDueSoon(RectificationDueSoon):
    event_type = "dudao.school-inspection.rectification.due_soon.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationOverdue(RectificationOverdue):
    event_type = "dudao.school-inspection.rectification.overdue.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationSubmitted(RectificationSubmitted):
    event_type = "dudao.school-inspection.rectification.submitted.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationAccepted(RectificationAccepted):
    event_type = "dudao.school-inspection.rectification.accepted.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationRejected(RectificationRejected):
    event_type = "dudao.school-inspection.rectification.rejected.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationReopened(RectificationReopened):
    event_type = "dudao.school-inspection.rectification.reopened.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationClosed(RectificationClosed):
    event_type = "dudao.school-inspection.rectification.closed.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionRectificationDeadlineRecomputed(RectificationDeadlineRecomputed):
    event_type = "dudao.school-inspection.rectification.deadline_recomputed.v1"
    origin: Literal["school-inspection"]


# monitoring


class MonitoringRectificationOpened(RectificationOpened):
    event_type = "dudao.monitoring.rectification.opened.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationDueSoon(RectificationDueSoon):
    event_type = "dudao.monitoring.rectification.due_soon.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationOverdue(RectificationOverdue):
    event_type = "dudao.monitoring.rectification.overdue.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationSubmitted(RectificationSubmitted):
    event_type = "dudao.monitoring.rectification.submitted.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationAccepted(RectificationAccepted):
    event_type = "dudao.monitoring.rectification.accepted.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationRejected(RectificationRejected):
    event_type = "dudao.monitoring.rectification.rejected.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationReopened(RectificationReopened):
    event_type = "dudao.monitoring.rectification.reopened.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationClosed(RectificationClosed):
    event_type = "dudao.monitoring.rectification.closed.v1"
    origin: Literal["monitoring"]


class MonitoringRectificationDeadlineRecomputed(RectificationDeadlineRecomputed):
    event_type = "dudao.monitoring.rectification.deadline_recomputed.v1"
    origin: Literal["monitoring"]


# EVENTS[origin][kind]: the class of each kind of event as each origin emits it.
EVENTS: Mapping[str, Mapping[str, type[RectificationEvent]]] = {
    "governance": {
        "opened": GovernanceRectificationOpened,
        "due_soon": GovernanceRectificationDueSoon,
        "overdue": GovernanceRectificationOverdue,
        "submitted": GovernanceRectificationSubmitted,
        "accepted": GovernanceRectificationAccepted,
        "rejected": GovernanceRectificationRejected,
        "reopened": GovernanceRectificationReopened,
        "closed": GovernanceRectificationClosed,
        "deadline_recomputed": GovernanceRectificationDeadlineRecomputed,
    },
    "school-inspection": {
        "opened": SchoolInspectionRectificationOpened,
        "due_soon": SchoolInspectionRectificationDueSoon,
        "overdue": SchoolInspectionRectificationOverdue,
        "submitted": SchoolInspectionRectificationSubmitted,
        "accepted": SchoolInspectionRectificationAccepted,
        "rejected": SchoolInspectionRectificationRejected,
        "reopened": SchoolInspectionRectificationReopened,
        "closed": SchoolInspectionRectificationClosed,
        "deadline_recomputed": SchoolInspectionRectificationDeadlineRecomputed,
    },
    "monitoring": {
        "opened": MonitoringRectificationOpened,
        "due_soon": MonitoringRectificationDueSoon,
        "overdue": MonitoringRectificationOverdue,
        "submitted": MonitoringRectificationSubmitted,
        "accepted": MonitoringRectificationAccepted,
        "rejected": MonitoringRectificationRejected,
        "reopened": MonitoringRectificationReopened,
        "closed": MonitoringRectificationClosed,
        "deadline_recomputed": MonitoringRectificationDeadlineRecomputed,
    },
}


def event_for(origin: str, kind: str) -> type[RectificationEvent]:
    """The class of ``kind`` (opened, overdue …) as ``origin`` emits it."""
    return EVENTS[origin][kind]


StepKind = Literal["urging_order", "interview", "circular", "accountability_decision"]


class EscalationStepTaken(Event):
    """Accountability took a step of the ladder; the originating service shows it and moves the deadline.

    Published on ``<type>.<origin>`` (``.none`` for a step without a rectification), so each origin
    service subscribes to its own steps (``steps_subject``) and never claims another's.
    """

    event_type: ClassVar[str] = "dudao.accountability.escalation.step_taken.v1"
    case_id: str
    step_id: str
    origin: Origin | None  # None for a step without a rectification (by hand, or on visits behind)
    rectification_id: str | None
    step_index: int
    step_kind: StepKind
    # visits_behind: a school's routine visits fell short by a semester's end (SchoolVisitsBehind);
    # duty_evaluation: a failed duty evaluation (DutyEvaluationConcluded); report_overdue: an emergency
    # supervision's first report came late (EmergencyReportOverdue). Neither is on a rectification.
    reason: Literal["overdue", "rejected", "manual", "visits_behind", "duty_evaluation", "report_overdue"]
    document_number: str | None
    new_deadline: date | None

    def subject(self) -> str:
        return self.case_id

    @classmethod
    def stream_subject(cls, data: Mapping[str, Any]) -> str:
        return f"{cls.event_type}.{data.get('origin') or 'none'}"


def steps_subject(origin: Origin) -> str:
    """The NATS subject of the steps accountability takes on ``origin``'s rectifications."""
    return EscalationStepTaken.stream_subject({"origin": origin})


class EscalationClosed(Event):
    event_type: ClassVar[str] = "dudao.accountability.escalation.closed.v1"
    case_id: str
    origin: Origin
    rectification_id: str

    def subject(self) -> str:
        return self.case_id
