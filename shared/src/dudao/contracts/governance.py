"""Events emitted by governance (``dudao.governance.*``): supervision offices, upward filing, duty
evaluation of governments and emergency supervision. (Its findings' events are in ``rectification``.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from dudao.events.catalog import Event
from dudao.ids import derived_id


class SupervisionOfficeRecorded(Event):
    """A supervision office (督导机构) was registered or changed. Governance is the one source of the
    abbreviations (机关代字) document numbers use; ``division`` is the office's own division, and a
    consumer keeps the record with the greatest ``version``."""

    event_type = "dudao.governance.office.recorded.v1"
    office_id: str
    name: str  # e.g. 广西壮族自治区人民政府教育督导委员会办公室
    abbreviation: str  # e.g. 桂教督
    version: int

    def subject(self) -> str:
        return self.division


class FilingMissing(Event):
    """An office has not filed an item of upward filing (向上级报告) by its due date: one fact per (office,
    year, kind). ``division`` is the lower office's; ``superior_division`` the office it files with."""

    event_type = "dudao.governance.filing.missing.v1"
    superior_division: str
    year: int
    kind: Literal["work_plan", "major_matter", "supervision_results"]
    due_on: date

    def subject(self) -> str:
        return self.division

    def event_id(self) -> UUID:
        return derived_id(self.division, self.year, self.kind, self.due_on, "filing_missing")


EvaluationGrade = Literal["excellent", "good", "pass", "fail"]


class DutyEvaluationConcluded(Event):
    """The duty evaluation (履行教育职责评价) of one government or department was concluded and its result
    published. ``division`` is the evaluated unit's; ``office_division`` the evaluating office's.

    Accountability acts on it: a ``fail`` grade or ``targets_missed`` is a trigger of accountability
    (an interview, then a circular, through the ladder); an ``excellent`` one a commendation (表彰)."""

    event_type = "dudao.governance.evaluation.concluded.v1"
    evaluation_id: str
    round_id: str
    year: int
    office_division: str
    unit_id: str
    unit_kind: Literal["government", "department"]
    unit_name: str
    responsible_person: str | None  # name and post of the person answerable, e.g. 张三（副区长）
    score: float
    grade: EvaluationGrade
    targets_missed: list[str]  # the annual targets not met, by name; empty when all were met
    open_rectifications: int  # findings of the evaluation not yet closed out
    concluded_at: datetime

    def subject(self) -> str:
        return self.evaluation_id

    def event_id(self) -> UUID:
        return derived_id(self.evaluation_id, "concluded")


class DutyEvaluationResult(BaseModel):
    """One line of a published round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    evaluation_id: str
    unit_id: str
    unit_name: str
    score: float
    grade: EvaluationGrade
    open_rectifications: int


class DutyEvaluationRoundPublished(Event):
    """A round of duty evaluations was published (二七): every result of the round and its rectification
    status, for the organisation departments of the same and the next level (二十一). ``division`` is the
    evaluating office's."""

    event_type = "dudao.governance.evaluation_round.published.v1"
    round_id: str
    year: int
    title: str
    results: list[DutyEvaluationResult]
    published_at: datetime

    def subject(self) -> str:
        return self.round_id

    def event_id(self) -> UUID:
        return derived_id(self.round_id, "published")


class EmergencyReportOverdue(Event):
    """The first report of an emergency supervision (重大教育突发事件督导) was not filed in time: one fact
    per supervision. ``division`` is where the incident happened; ``office_division`` the office that
    runs the supervision, whose superior urges it."""

    event_type = "dudao.governance.emergency.report_overdue.v1"
    supervision_id: str
    office_division: str
    incident: str
    opened_at: datetime
    report_due_at: datetime

    def subject(self) -> str:
        return self.supervision_id

    def event_id(self) -> UUID:
        return derived_id(self.supervision_id, self.report_due_at, "emergency_report_overdue")
