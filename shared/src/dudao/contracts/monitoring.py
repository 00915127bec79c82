"""Events emitted by monitoring (``dudao.monitoring.*``): data collection, balanced development, early
warning. (Its findings' events are in ``rectification``.)"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from dudao.events.catalog import Event
from dudao.ids import derived_id


class SubmissionApproved(Event):
    """A submission of a collection task was approved at the last level (the region): its values are the
    approved ones. ``division`` is the unit's (the school's county, or the county)."""

    event_type = "dudao.monitoring.submission.approved.v1"
    submission_id: str
    task_id: str
    system_id: str
    year: int
    unit_kind: str  # school | county
    unit_id: str

    def subject(self) -> str:
        return self.submission_id


class WarningAlertRaised(Event):
    """An early-warning rule found something at a unit (动态监测预警); ``division`` is the unit's county.
    Raised once per rule, unit, year and period: the alert's id, and so the event's, derives from them."""

    event_type = "dudao.monitoring.warning_alert.raised.v1"
    alert_id: str
    rule_code: str
    rule_kind: str
    unit_kind: str  # school | county
    unit_id: str
    year: int
    message: str

    def subject(self) -> str:
        return self.alert_id

    def event_id(self) -> UUID:
        return derived_id(self.alert_id, "warning_alert_raised")


class SubmissionReturned(Event):
    """A level returned a submission with its comments (退回): the unit, or whoever submitted for it,
    corrects it and submits again. ``division`` is the unit's."""

    event_type = "dudao.monitoring.submission.returned.v1"
    submission_id: str
    task_id: str
    unit_kind: str  # school | county
    unit_id: str
    level: str  # county | city | region
    comment: str

    def subject(self) -> str:
        return self.submission_id


class CollectionDueSoon(Event):
    """A unit has not submitted a collection task ``days_before`` days before it is due (催报): once per
    task, unit and reminder day, whatever the schedulers. ``division`` is the unit's."""

    event_type = "dudao.monitoring.collection.due_soon.v1"
    task_id: str
    task_name: str
    unit_kind: str  # school | county
    unit_id: str
    due_on: date
    days_before: int

    def subject(self) -> str:
        return self.task_id

    def event_id(self) -> UUID:
        return derived_id(self.task_id, self.unit_id, self.due_on, self.days_before, "collection_due_soon")


class IndicatorSystemRecorded(Event):
    """An office recorded an indicator system or its next edition. ``division`` is the office's;
    ``education_level`` one of kindergarten, compulsory, secondary_vocational, higher_vocational and
    undergraduate."""

    event_type = "dudao.monitoring.indicator_system.recorded.v1"
    system_id: str
    key: str
    edition: int
    education_level: str

    def subject(self) -> str:
        return self.system_id


class AgencyDeliverableSubmitted(Event):
    """A commissioned agency submitted a deliverable (a report, data or quality monitoring results) with
    the API key ``key_id``; the commissioning office reviews it. ``division`` is the office's."""

    event_type = "dudao.monitoring.agency_deliverable.submitted.v1"
    commission_id: str
    deliverable_id: str
    report_id: str
    kind: str  # data | report | quality_results
    key_id: str | None

    def subject(self) -> str:
        return self.deliverable_id


class AgencyDeliverableReviewed(Event):
    """The office accepted a deliverable of a commissioned agency, or returned it with comments (二五
    guidance); accepted quality results are the counties' approved ``quality.3_9`` values from then on.
    ``division`` is the office's."""

    event_type = "dudao.monitoring.agency_deliverable.reviewed.v1"
    commission_id: str
    deliverable_id: str
    report_id: str
    kind: str  # data | report | quality_results
    decision: str  # accept | return
    comments: str | None

    def subject(self) -> str:
        return self.deliverable_id


class BalanceVerdictGiven(Event):
    """A county's balanced-development verdict (优质均衡) for a year was computed: ``status`` met, not_met
    or missing (data not yet approved), ``failed`` the criteria it does not meet. ``division`` is the
    county's. Given again each time the county is evaluated, with the verdict's next version."""

    event_type = "dudao.monitoring.balance_verdict.given.v1"
    verdict_id: str
    system_id: str
    year: int
    status: str
    failed: list[str]
    version: int

    def subject(self) -> str:
        return self.verdict_id

    def event_id(self) -> UUID:
        return derived_id(self.verdict_id, str(self.version), "balance_verdict_given")
