"""Events emitted by monitoring (``dudao.monitoring.*``): data collection, balanced development, early
warning. (Its findings' events are in ``rectification``.)"""

from __future__ import annotations

from dudao.events.catalog import Event


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
