"""Events emitted by school-inspection (``dudao.inspection.*``)."""

from __future__ import annotations

from dudao.events.catalog import Event


class SchoolRegistered(Event):
    event_type = "dudao.inspection.school.registered.v1"
    school_id: str
    school_code: str
    name: str
    school_type: str
    ownership: str

    def subject(self) -> str:
        return self.school_id


class SchoolUpdated(Event):
    event_type = "dudao.inspection.school.updated.v1"
    school_id: str
    school_code: str
    name: str
    school_type: str
    ownership: str
    version: int

    def subject(self) -> str:
        return self.school_id
