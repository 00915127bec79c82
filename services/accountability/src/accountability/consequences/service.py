"""What accountability does on governance's facts, each once: a failed duty evaluation is a trigger of
accountability (RULES.md §5), an excellent one a commendation (表彰), a published round reaches the
organisation departments of its level and the next (二十一), a missing filing (二二) a reminder, a late
emergency report (二三) an urging order. No SQL and no commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from accountability.consequences import repository
from accountability.consequences.models import GovernanceFactKind
from accountability.divisions import name as division_name
from accountability.documents import service as documents
from accountability.documents import texts
from accountability.documents.models import DocumentKind
from accountability.documents.service import Addressee, InterviewPlan, Issue
from accountability.escalation import service as escalation
from accountability.notifications import service as notifications
from accountability.notifications.service import Notice
from dudao.contracts.governance import (
    DutyEvaluationConcluded,
    DutyEvaluationRoundPublished,
    EmergencyReportOverdue,
    FilingMissing,
)
from dudao.divisions.tree import DivisionTree
from dudao.events.catalog import Event
from dudao.ids import uuid7
from dudao.uow import UnitOfWork


async def _heard(
    uow: UnitOfWork, kind: GovernanceFactKind, facts: Sequence[tuple[Event, UUID, str]]
) -> set[UUID]:
    """Note the facts (an event, its fact id, what it is about); the ids of those not heard before."""
    now = uow.clock.now()
    rows: list[dict[str, Any]] = [
        {
            "id": uuid7(),
            "fact_id": fact_id,
            "kind": kind,
            "subject": subject,
            "division_code": event.division,
            "occurred_at": now,
        }
        for event, fact_id, subject in facts
    ]
    new = await repository.note_facts(uow.session, rows)
    for row in rows:
        if row["fact_id"] in new:
            uow.record(f"{kind.value}.heard", "governance_fact", row["id"], row["division_code"])
    return new


def _issued_notices(issues: Sequence[Issue], issued: Sequence[documents.Issued]) -> list[Notice]:
    """The addressee of each document hears of it, its copy recipient too."""
    return [
        Notice(
            i.to,
            f"{texts.KIND_NAMES[i.kind]}：{d.number}",
            d.body,
            case_id=None,
            step_id=None,
            department_id=i.to.competent_department_id,
        )
        for i, d in zip(issues, issued, strict=True)
    ]


async def evaluations_concluded(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[escalation.Fact[DutyEvaluationConcluded]]
) -> None:
    new = await _heard(
        uow, GovernanceFactKind.DUTY_EVALUATION_CONCLUDED, [(e, f, e.evaluation_id) for e, f in facts]
    )
    heard = [(e, f) for e, f in facts if f in new]
    await escalation.duty_evaluations(uow, divisions, heard)
    commendations = [
        Issue(
            DocumentKind.COMMENDATION,
            Addressee(
                unit_id=e.unit_id,
                unit_kind=e.unit_kind,
                unit_name=e.unit_name,
                competent_department=None,
                division_code=e.division,
                case_id=None,
                grounds=texts.duty_evaluation_excellent(e),
                responsible_person=e.responsible_person,
            ),
            e.office_division,
            None,
            InterviewPlan(),
        )
        for e, _ in heard
        if e.grade == "excellent" and not escalation.failed(e)
    ]
    issued = await documents.issue_all(uow, divisions, commendations)
    notifications.notify_all(uow, _issued_notices(commendations, issued))


def _organisation_department(divisions: DivisionTree, division_code: str) -> str:
    return texts.organisation_department(division_name(divisions, division_code))


async def rounds_published(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[escalation.Fact[DutyEvaluationRoundPublished]]
) -> None:
    """One document per round (its results, each with its rectification status) by the evaluating office to
    the organisation department of its level, copied to the one of the next level up; each hears of it."""
    new = await _heard(
        uow, GovernanceFactKind.EVALUATION_ROUND_PUBLISHED, [(e, f, e.round_id) for e, f in facts]
    )
    issues = []
    for event, fact_id in facts:
        if fact_id not in new:
            continue
        office = event.division
        above = documents.superior(divisions, office)
        to = Addressee(
            unit_id=texts.organisation_department_id(office),
            unit_kind=texts.ORGANISATION_DEPARTMENT,
            unit_name=_organisation_department(divisions, office),
            competent_department=_organisation_department(divisions, above) if above else None,
            division_code=office,
            case_id=None,
            grounds=event.title,
            competent_department_id=texts.organisation_department_id(above) if above else None,
        )
        results = [texts.evaluation_result(r) for r in event.results]
        issues.append(Issue(DocumentKind.EVALUATION_RESULTS, to, office, None, InterviewPlan(), results))
    issued = await documents.issue_all(uow, divisions, issues)
    notifications.notify_all(uow, _issued_notices(issues, issued))


async def filings_missing(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[escalation.Fact[FilingMissing]]
) -> None:
    """A lower office that has not filed is reminded, copied to the office it files with."""
    new = await _heard(
        uow, GovernanceFactKind.FILING_MISSING, [(e, f, f"{e.year}:{e.kind}") for e, f in facts]
    )
    notices = []
    for event, fact_id in facts:
        if fact_id not in new:
            continue
        name = documents.office_name(divisions, event.division)
        title, body = texts.filing_reminder(name, event.year, event.kind, event.due_on)
        to = Addressee(
            unit_id=texts.office_id(event.division),
            unit_kind=texts.SUPERVISION_OFFICE,
            unit_name=name,
            competent_department=documents.office_name(divisions, event.superior_division),
            division_code=event.division,
            case_id=None,
            grounds=title,
        )
        notices.append(
            Notice(to, title, body, None, None, department_id=texts.office_id(event.superior_division))
        )
    notifications.notify_all(uow, notices)


async def emergency_reports_overdue(
    uow: UnitOfWork, divisions: DivisionTree, facts: Sequence[escalation.Fact[EmergencyReportOverdue]]
) -> None:
    new = await _heard(
        uow, GovernanceFactKind.EMERGENCY_REPORT_OVERDUE, [(e, f, e.supervision_id) for e, f in facts]
    )
    await escalation.reports_overdue(uow, divisions, [(e, f) for e, f in facts if f in new])
