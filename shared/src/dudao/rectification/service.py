"""The rules of findings and rectifications. No SQL, no commit: the unit of work commits state and events.

Status moves open → submitted → closed; a rejection or a reopening returns it to open. Every change is
an event ``dudao.<origin>.rectification.<kind>.v1``; accountability escalates on overdue and rejected.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.calendar.service import compute_deadline
from dudao.contracts.rectification import EscalationStepTaken, event_for
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound
from dudao.ids import uuid7
from dudao.rectification import repository
from dudao.rectification.models import (
    EvidenceFile,
    Finding,
    Recheck,
    RecheckResult,
    Rectification,
    RectificationReport,
    RectificationStatus,
    RectificationStep,
    ReportDecision,
)
from dudao.rectification.schemas import DeadlineSpec, FindingCreate, RecheckCreate, ReportCreate
from dudao.uow import UnitOfWork


class RectificationNotFound(NotFound):
    type = "rectification-not-found"
    title = "No such rectification"


class WrongStatus(Conflict):
    type = "rectification-wrong-status"
    title = "The rectification is not in a state that allows this"


class NotTheUnit(Forbidden):
    type = "not-the-supervised-unit"
    title = "Only the supervised unit itself may do this"


class OutsideJurisdiction(Forbidden):
    type = "division-outside-jurisdiction"
    title = "You may not raise findings outside your jurisdiction"


class UnknownEvidence(InvalidInput):
    type = "unknown-evidence"
    title = "An evidence file does not exist or is not yours to use"


class ReplyWindowClosed(Conflict):
    type = "reply-window-closed"
    title = "The window for a reply (申辩) has closed"


def emit(uow: UnitOfWork, kind: str, rectification: Rectification, **extra: Any) -> None:
    finding = rectification.finding
    event = event_for(uow.kit.schema, kind)
    uow.emit(
        event.model_validate(
            {
                "division": rectification.division_code,
                "origin": uow.kit.schema,
                "rectification_id": str(rectification.id),
                "finding_id": str(finding.id),
                "category": finding.category,
                "severity": finding.severity.value,
                "unit_id": finding.unit_id,
                "unit_kind": finding.unit_kind.value,
                "unit_name": finding.unit_name,
                "competent_department": finding.competent_department,
                "office_division": rectification.office_division,
                "deadline": rectification.deadline,
                "provisional_deadline": rectification.provisional_deadline,
                **extra,
            }
        )
    )


async def _check_evidence(uow: UnitOfWork, who: Principal, ids: list[UUID]) -> None:
    unique = sorted(set(ids))
    if unique and await repository.count_visible_evidence(uow.session, who, unique) != len(unique):
        raise UnknownEvidence("Upload evidence with POST /v1/evidence first, then name its ids")


async def _deadline(uow: UnitOfWork, spec: DeadlineSpec, office_division: str) -> tuple[date, date, bool]:
    start = uow.clock.today()
    deadline = await compute_deadline(
        uow.session, start=start, days=spec.days, kind=spec.kind.value, office_division=office_division
    )
    return start, deadline.due, deadline.provisional


async def raise_finding(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: FindingCreate
) -> Rectification:
    divisions.require(body.unit.division_code)
    if not who.can_see(body.unit.division_code):
        raise OutsideJurisdiction(f"{body.unit.division_code} is outside your jurisdiction")
    await _check_evidence(uow, who, body.evidence_ids)
    now = uow.clock.now()
    office = who.division
    started_on, deadline, provisional = await _deadline(uow, body.deadline, office)
    finding = Finding(
        id=uuid7(),
        origin_kind=body.origin_kind,
        origin_ref=body.origin_ref,
        category=body.category,
        severity=body.severity,
        description=body.description,
        evidence_ids=body.evidence_ids,
        unit_id=body.unit.id,
        unit_kind=body.unit.kind,
        unit_name=body.unit.name,
        competent_department=body.unit.competent_department,
        division_code=body.unit.division_code,
        office_division=office,
        raised_by=who.sub,
        raised_at=now,
    )
    rectification = await repository.add(
        uow.session,
        finding,
        Rectification(
            id=uuid7(),
            finding_id=finding.id,
            finding=finding,
            requirement=body.requirement,
            deadline_kind=body.deadline.kind,
            deadline_days=body.deadline.days,
            started_on=started_on,
            deadline=deadline,
            provisional_deadline=provisional,
            status=RectificationStatus.OPEN,
            unit_id=body.unit.id,
            competent_department=body.unit.competent_department,
            division_code=body.unit.division_code,
            office_division=office,
            created_at=now,
            updated_at=now,
        ),
    )
    uow.record(
        "finding.raised",
        "finding",
        finding.id,
        finding.division_code,
        category=finding.category,
        unit_id=finding.unit_id,
    )
    emit(uow, "opened", rectification, requirement=rectification.requirement)
    return rectification


async def get(
    uow: UnitOfWork,
    who: Principal,
    rectification_id: UUID,
    *,
    for_update: bool = False,
    with_history: bool = False,
) -> Rectification:
    rectification = await repository.get_visible(
        uow.session, who, rectification_id, for_update=for_update, with_history=with_history
    )
    if rectification is None:
        raise RectificationNotFound(f"Rectification {rectification_id} does not exist")
    return rectification


def _touch(uow: UnitOfWork, rectification: Rectification) -> datetime:
    now = uow.clock.now()
    rectification.updated_at = now
    return now


def _require_unit(who: Principal, rectification: Rectification) -> None:
    if who.org != rectification.unit_id:
        raise NotTheUnit(f"Submit as the unit {rectification.unit_id} (your token's org claim)")


async def submit_report(
    uow: UnitOfWork, who: Principal, rectification_id: UUID, body: ReportCreate
) -> RectificationReport:
    rectification = await get(uow, who, rectification_id, for_update=True)
    _require_unit(who, rectification)
    if rectification.status != RectificationStatus.OPEN:
        raise WrongStatus(
            f"A report can be submitted while the rectification is open; it is {rectification.status.value}"
        )
    await _check_evidence(uow, who, body.evidence_ids)
    now = _touch(uow, rectification)
    report = RectificationReport(
        id=uuid7(),
        rectification_id=rectification.id,
        text=body.text,
        evidence_ids=body.evidence_ids,
        submitted_by=who.sub,
        submitted_at=now,
    )
    uow.session.add(report)
    rectification.status = RectificationStatus.SUBMITTED
    await uow.session.flush()
    uow.record(
        "rectification.submitted",
        "rectification",
        rectification.id,
        rectification.division_code,
        report_id=str(report.id),
    )
    emit(uow, "submitted", rectification, report_id=str(report.id))
    return report


async def _pending_report(uow: UnitOfWork, rectification: Rectification) -> RectificationReport:
    if rectification.status != RectificationStatus.SUBMITTED:
        raise WrongStatus(
            f"There is no report waiting for a decision; the rectification is {rectification.status.value}"
        )
    await uow.session.refresh(rectification, ["reports"])
    return rectification.reports[-1]


async def accept(uow: UnitOfWork, who: Principal, rectification_id: UUID) -> Rectification:
    """Close out (销号): the unit's report shows the problem is rectified."""
    rectification = await get(uow, who, rectification_id, for_update=True)
    report = await _pending_report(uow, rectification)
    now = _touch(uow, rectification)
    report.decision, report.decided_by, report.decided_at = ReportDecision.ACCEPTED, who.sub, now
    rectification.status = RectificationStatus.CLOSED
    rectification.closed_at = now
    await uow.session.flush()
    uow.record(
        "rectification.accepted",
        "rectification",
        rectification.id,
        rectification.division_code,
        report_id=str(report.id),
    )
    emit(uow, "accepted", rectification, report_id=str(report.id))
    emit(uow, "closed", rectification)
    return rectification


async def reject(
    uow: UnitOfWork, who: Principal, rectification_id: UUID, reasons: str, reply_window_days: int
) -> Rectification:
    rectification = await get(uow, who, rectification_id, for_update=True)
    report = await _pending_report(uow, rectification)
    now = _touch(uow, rectification)
    report.decision, report.decided_by, report.decided_at = ReportDecision.REJECTED, who.sub, now
    report.rejection_reasons = reasons
    report.reply_due = uow.clock.today() + timedelta(days=reply_window_days)
    rectification.status = RectificationStatus.OPEN
    await uow.session.flush()
    uow.record(
        "rectification.rejected",
        "rectification",
        rectification.id,
        rectification.division_code,
        report_id=str(report.id),
    )
    emit(uow, "rejected", rectification, report_id=str(report.id), reasons=reasons)
    return rectification


async def reply(uow: UnitOfWork, who: Principal, rectification_id: UUID, text: str) -> Rectification:
    """The unit's reply (申辩) to a rejection puts its report back before the inspector."""
    rectification = await get(uow, who, rectification_id, for_update=True)
    _require_unit(who, rectification)
    await uow.session.refresh(rectification, ["reports"])
    last = rectification.reports[-1] if rectification.reports else None
    if (
        rectification.status != RectificationStatus.OPEN
        or last is None
        or last.decision != ReportDecision.REJECTED
        or last.reply is not None
    ):
        raise WrongStatus("Only a rejected report can be answered, once")
    assert last.reply_due is not None
    if uow.clock.today() > last.reply_due:
        raise ReplyWindowClosed(f"Replies to this rejection were due by {last.reply_due.isoformat()}")
    now = _touch(uow, rectification)
    last.reply, last.replied_at, last.decision = text, now, None
    rectification.status = RectificationStatus.SUBMITTED
    await uow.session.flush()
    uow.record(
        "rectification.replied",
        "rectification",
        rectification.id,
        rectification.division_code,
        report_id=str(last.id),
    )
    emit(uow, "submitted", rectification, report_id=str(last.id))
    return rectification


async def recheck(uow: UnitOfWork, who: Principal, rectification_id: UUID, body: RecheckCreate) -> Recheck:
    """A recheck (复查) after close-out confirms it or reopens the rectification with a new deadline."""
    rectification = await get(uow, who, rectification_id, for_update=True)
    if rectification.status != RectificationStatus.CLOSED:
        raise WrongStatus("Only a closed-out rectification can be rechecked")
    if body.result == RecheckResult.REOPENED and body.deadline is None:
        raise InvalidInput(
            "Reopening needs a new deadline",
            errors=[
                {"field": "deadline", "in": "body", "message": "required when reopening", "code": "missing"}
            ],
        )
    now = _touch(uow, rectification)
    done = Recheck(
        id=uuid7(),
        rectification_id=rectification.id,
        result=body.result,
        notes=body.notes,
        checked_by=who.sub,
        checked_at=now,
    )
    uow.session.add(done)
    if body.deadline is not None and body.result == RecheckResult.REOPENED:
        start, due, provisional = await _deadline(uow, body.deadline, rectification.office_division)
        rectification.started_on, rectification.deadline, rectification.provisional_deadline = (
            start,
            due,
            provisional,
        )
        rectification.deadline_kind, rectification.deadline_days = body.deadline.kind, body.deadline.days
        rectification.status = RectificationStatus.OPEN
        rectification.closed_at = None
    await uow.session.flush()
    uow.record(
        "rectification.rechecked",
        "rectification",
        rectification.id,
        rectification.division_code,
        result=body.result.value,
    )
    if body.result == RecheckResult.REOPENED:
        emit(uow, "reopened", rectification, recheck_id=str(done.id), notes=body.notes)
    return done


async def page(uow: UnitOfWork, who: Principal, **filters: Any) -> list[Rectification]:
    return await repository.page(uow.session, who, **filters)


# Timed facts and events from elsewhere ------------------------------------------------------------------


async def mark_overdue(uow: UnitOfWork, today: date, limit: int = 500) -> int:
    due = await repository.lock_overdue(uow.session, today, limit)
    for rectification in due:
        rectification.overdue_deadline = rectification.deadline
        _touch(uow, rectification)
        emit(uow, "overdue", rectification)
    return len(due)


async def remind(uow: UnitOfWork, today: date, days_before: list[int], limit: int = 500) -> int:
    """Each configured reminder (7 and 1 days before, by default) once per rectification and deadline."""
    sent = 0
    for days in sorted(set(days_before), reverse=True):
        for rectification in await repository.lock_due_soon(uow.session, today, days, limit - sent):
            if await repository.claim_reminder(
                uow.session, rectification.id, rectification.deadline, days, uow.clock.now()
            ):
                emit(uow, "due_soon", rectification, days_before=days)
                sent += 1
        if sent >= limit:
            break
    return sent


async def apply_step(uow: UnitOfWork, step: EscalationStepTaken) -> bool:
    """Show an escalation step on the rectification and move its deadline; a redelivery changes nothing."""
    if step.origin != uow.kit.schema or step.rectification_id is None:
        return False
    rectification = await repository.get_for_event(uow.session, UUID(step.rectification_id))
    if rectification is None:
        return False
    now = uow.clock.now()
    recorded = await repository.record_step(
        uow.session,
        RectificationStep(
            id=uuid7(),
            rectification_id=rectification.id,
            case_id=UUID(step.case_id),
            step_id=UUID(step.step_id),
            step_index=step.step_index,
            step_kind=step.step_kind,
            reason=step.reason,
            document_number=step.document_number,
            new_deadline=step.new_deadline,
            taken_at=now,
        ),
    )
    if not recorded:
        return False
    rectification.escalation_level = max(rectification.escalation_level, step.step_index + 1)
    rectification.last_step_kind = step.step_kind
    if step.new_deadline is not None and rectification.status != RectificationStatus.CLOSED:
        rectification.deadline = step.new_deadline
        rectification.provisional_deadline = False
    _touch(uow, rectification)
    uow.record(
        "rectification.escalated",
        "rectification",
        rectification.id,
        rectification.division_code,
        step_kind=step.step_kind,
        document_number=step.document_number,
    )
    return True


async def recompute_provisional(uow: UnitOfWork, year: int) -> int:
    """A year's holiday calendar arrived: provisional deadlines in it become real ones."""
    changed = 0
    for rectification in await repository.provisional_in_year(uow.session, year, limit=10_000):
        deadline = await compute_deadline(
            uow.session,
            start=rectification.started_on,
            days=rectification.deadline_days,
            kind=rectification.deadline_kind.value,
            office_division=rectification.office_division,
        )
        if deadline.provisional:
            continue
        previous = rectification.deadline
        rectification.deadline, rectification.provisional_deadline = deadline.due, False
        _touch(uow, rectification)
        emit(uow, "deadline_recomputed", rectification, previous_deadline=previous)
        changed += 1
    return changed


async def add_evidence(uow: UnitOfWork, who: Principal, evidence: EvidenceFile) -> EvidenceFile:
    evidence.division_code = who.division
    evidence.uploaded_by = who.sub
    evidence.uploaded_at = uow.clock.now()
    stored = await repository.add_evidence(uow.session, evidence)
    uow.record(
        "evidence.uploaded",
        "evidence_file",
        stored.id,
        stored.division_code,
        sha256=stored.sha256,
        size=stored.size,
    )
    return stored
