"""Events emitted by school-inspection (``dudao.school-inspection.*``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from dudao.events.catalog import Event
from dudao.ids import derived_id


class SchoolRegistered(Event):
    """Version 1, kept for the events already on the stream: school-inspection emits version 2."""

    event_type = "dudao.school-inspection.school.registered.v1"
    school_id: str
    school_code: str
    name: str
    school_type: str
    ownership: str

    def subject(self) -> str:
        return self.school_id


class SchoolUpdated(Event):
    """Version 1, kept for the events already on the stream: school-inspection emits version 2."""

    event_type = "dudao.school-inspection.school.updated.v1"
    school_id: str
    school_code: str
    name: str
    school_type: str
    ownership: str
    version: int

    def subject(self) -> str:
        return self.school_id


class _SchoolFacts(Event):
    """What version 2 of the school events says about a school: v1's facts with its enrolment, which
    monitoring computes balanced development over (a v1 consumer, validating with extra="forbid", would
    refuse the new fields: hence a new version rather than new fields on v1)."""

    school_id: str
    school_code: str
    name: str
    school_type: str
    ownership: str
    enrolment: int  # the total
    # Pupils per stage (kindergarten, primary, junior, senior, vocational); None when only the total is known.
    enrolment_by_stage: dict[str, int] | None
    teaching_point: bool  # a teaching point (教学点), not a complete school

    def subject(self) -> str:
        return self.school_id


class SchoolRegisteredV2(_SchoolFacts):
    event_type = "dudao.school-inspection.school.registered.v2"


class SchoolUpdatedV2(_SchoolFacts):
    event_type = "dudao.school-inspection.school.updated.v2"
    version: int


class InspectorAppointed(Event):
    """An inspector's appointment was announced (任命); ``division`` is the appointing office's."""

    event_type = "dudao.school-inspection.inspector.appointed.v1"
    inspector_id: str
    name: str
    employment: str
    appointed_on: date
    term_ends_on: date | None  # part-time inspectors serve terms; full-time ones do not

    def subject(self) -> str:
        return self.inspector_id


class ResponsibleInspectorAssigned(Event):
    """An inspector became a school's responsible inspector (责任督学); ``division`` is the school's."""

    event_type = "dudao.school-inspection.assignment.assigned.v1"
    assignment_id: str
    school_id: str
    inspector_id: str
    starts_on: date
    ends_on: date | None

    def subject(self) -> str:
        return self.school_id


class VisitRecorded(Event):
    """An inspection visit (督导检查) was recorded, with how many findings it raised."""

    event_type = "dudao.school-inspection.visit.recorded.v1"
    visit_id: str
    school_id: str
    school_code: str
    kind: str
    comprehensive: bool
    announced: bool
    started_at: datetime
    findings: int

    def subject(self) -> str:
        return self.visit_id


class SchoolVisitsBehind(Event):
    """A school had fewer routine visits than the policy asks by a checkpoint of a semester.

    One fact per (school, semester, checkpoint): ``midpoint`` (fewer than half the required visits
    before the semester's midpoint) or ``end`` (fewer than required by the semester's end).
    """

    event_type = "dudao.school-inspection.school.visits_behind.v1"
    school_id: str
    school_code: str
    school_name: str
    semester: str  # e.g. 2026-autumn
    semester_start: date
    semester_end: date  # the last day of the semester
    checkpoint: Literal["midpoint", "end"]
    checkpoint_date: date  # visits before this date (Asia/Shanghai) counted
    visits: int
    required: int  # routine visits the policy asks for the whole semester

    def subject(self) -> str:
        return self.school_id

    def event_id(self) -> UUID:
        return derived_id(self.school_id, self.semester, self.checkpoint, "visits_behind")


class InspectorTrainingRecorded(Event):
    """A training of an inspector went on record (培训记录); ``division`` is the appointing office's.
    Supervision teams need pre-service training on record (岗前培训)."""

    event_type = "dudao.school-inspection.inspector.training_recorded.v1"
    inspector_id: str
    training_id: str
    kind: Literal["pre_service", "collective"]
    held_on: date
    class_hours: int

    def subject(self) -> str:
        return self.inspector_id


class InspectorConflictRecorded(Event):
    """An inspector has a tie to a school that makes them recuse (回避) from it. ``unit_id`` is the school
    as a supervised unit (its school code); ``division`` is the school's."""

    event_type = "dudao.school-inspection.inspector.conflict_recorded.v1"
    inspector_id: str
    conflict_id: str
    school_id: str
    unit_id: str
    kind: str

    def subject(self) -> str:
        return self.inspector_id


class InspectorTermRenewed(Event):
    """A part-time inspector was reappointed for another term (任期); ``division`` is the office's."""

    event_type = "dudao.school-inspection.inspector.term_renewed.v1"
    inspector_id: str
    sequence: int
    starts_on: date
    ends_on: date

    def subject(self) -> str:
        return self.inspector_id


class InspectorAppointmentEnded(Event):
    """An inspector's appointment ended (an unqualified yearly review); they serve on no team from
    ``ended_on``. ``division`` is the appointing office's."""

    event_type = "dudao.school-inspection.inspector.appointment_ended.v1"
    inspector_id: str
    ended_on: date
    reason: str

    def subject(self) -> str:
        return self.inspector_id
