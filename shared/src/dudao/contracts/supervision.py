"""Supervision procedure events (督导), emitted by every service that runs supervisions.

governance and school-inspection each mount the kit's supervision capability, so each event exists once
per origin service: ``dudao.<origin>.supervision.<event>.v1``. As in ``rectification``, the classes per
origin are declared one by one (the catalog registers a class per type) and differ only in their type and
in the one origin their payload may name; consumers type their handlers against the base classes.
``division`` is where the supervision happens (the division common to its units).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from dudao.events.catalog import Event
from dudao.ids import derived_id

# The services that run supervisions: the second token of their event types.
SupervisionOrigin = Literal["governance", "school-inspection"]
SUPERVISION_ORIGINS: tuple[SupervisionOrigin, ...] = ("governance", "school-inspection")


class SupervisionEvent(Event):
    """What every supervision event says: which supervision, of what kind, by which office, of whom."""

    origin: SupervisionOrigin
    supervision_id: str
    kind: str
    title: str
    ref: str | None  # what the supervision serves, e.g. duty-evaluation:<id>
    office_division: str
    unit_ids: list[str]

    def subject(self) -> str:
        return self.supervision_id

    def event_id(self) -> UUID:
        # One fact per supervision and step: a step the procedure allows once.
        return derived_id(self.supervision_id, self.event_type)


class SupervisionOpened(SupervisionEvent):
    starts_on: date
    ends_on: date


class SupervisionNotified(SupervisionEvent):
    """The written notice (督导通知) went to the units ahead of the on-site work."""

    notified_on: date
    starts_on: date


class SupervisionFeedbackGiven(SupervisionEvent):
    """The preliminary opinion was fed back (二八), by meeting or written notice; the units may reply."""

    mode: Literal["meeting", "written"]
    feedback_on: date
    reply_due: date


class SupervisionOpinionIssued(SupervisionEvent):
    """The supervision opinion (督导意见书) was issued with its document number; each rectification
    requirement became a finding of the origin's rectification loop."""

    document_number: str
    issued_on: date
    rectification_ids: list[str]


class SupervisionReportPublished(SupervisionEvent):
    """The supervision report (督导报告, 二七) was published for the public."""

    report_title: str
    published_at: datetime


# governance


class GovernanceSupervisionOpened(SupervisionOpened):
    event_type = "dudao.governance.supervision.opened.v1"
    origin: Literal["governance"]


class GovernanceSupervisionNotified(SupervisionNotified):
    event_type = "dudao.governance.supervision.notified.v1"
    origin: Literal["governance"]


class GovernanceSupervisionFeedbackGiven(SupervisionFeedbackGiven):
    event_type = "dudao.governance.supervision.feedback_given.v1"
    origin: Literal["governance"]


class GovernanceSupervisionOpinionIssued(SupervisionOpinionIssued):
    event_type = "dudao.governance.supervision.opinion_issued.v1"
    origin: Literal["governance"]


class GovernanceSupervisionReportPublished(SupervisionReportPublished):
    event_type = "dudao.governance.supervision.report_published.v1"
    origin: Literal["governance"]


# school-inspection


class SchoolInspectionSupervisionOpened(SupervisionOpened):
    event_type = "dudao.school-inspection.supervision.opened.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionSupervisionNotified(SupervisionNotified):
    event_type = "dudao.school-inspection.supervision.notified.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionSupervisionFeedbackGiven(SupervisionFeedbackGiven):
    event_type = "dudao.school-inspection.supervision.feedback_given.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionSupervisionOpinionIssued(SupervisionOpinionIssued):
    event_type = "dudao.school-inspection.supervision.opinion_issued.v1"
    origin: Literal["school-inspection"]


class SchoolInspectionSupervisionReportPublished(SupervisionReportPublished):
    event_type = "dudao.school-inspection.supervision.report_published.v1"
    origin: Literal["school-inspection"]


# EVENTS[origin][kind]: the class of each kind of event as each origin emits it.
EVENTS: Mapping[str, Mapping[str, type[SupervisionEvent]]] = {
    "governance": {
        "opened": GovernanceSupervisionOpened,
        "notified": GovernanceSupervisionNotified,
        "feedback_given": GovernanceSupervisionFeedbackGiven,
        "opinion_issued": GovernanceSupervisionOpinionIssued,
        "report_published": GovernanceSupervisionReportPublished,
    },
    "school-inspection": {
        "opened": SchoolInspectionSupervisionOpened,
        "notified": SchoolInspectionSupervisionNotified,
        "feedback_given": SchoolInspectionSupervisionFeedbackGiven,
        "opinion_issued": SchoolInspectionSupervisionOpinionIssued,
        "report_published": SchoolInspectionSupervisionReportPublished,
    },
}


def event_for(origin: str, kind: str) -> type[SupervisionEvent]:
    """The class of ``kind`` (opened, notified …) as ``origin`` emits it."""
    return EVENTS[origin][kind]
