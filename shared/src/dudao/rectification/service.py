"""The rules of findings and rectifications. No SQL, no commit: the unit of work commits state and events.

Status moves open → submitted → closed; a rejection or a reopening returns it to open. Every change is
an event ``dudao.<origin>.rectification.<kind>.v1``, the origin being the service that mounted the
capability; accountability escalates on overdue and rejected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.calendar.service import compute_deadline
from dudao.contracts.rectification import EscalationStepTaken, Origin, RectificationEvent, event_for
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.rectification import repository
from dudao.rectification.models import (
    DeadlineKind,
    Finding,
    Recheck,
    RecheckResult,
    Rectification,
    RectificationReport,
    RectificationStatus,
    ReportDecision,
)
from dudao.rectification.repository import Visibility
from dudao.rectification.schemas import (
    DeadlineSpec,
    FindingCreate,
    RecheckCreate,
    ReportCreate,
    SupervisedUnit,
)
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


class ReplyWindowClosed(Conflict):
    type = "reply-window-closed"
    title = "The window for a reply (申辩) has closed"


# The supervised unit a finding sent over HTTP is raised at, from what the client says of it.
ResolveUnit = Callable[[UnitOfWork, Principal, DivisionTree, SupervisedUnit], Awaitable[SupervisedUnit]]


async def as_given(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit: SupervisedUnit
) -> SupervisedUnit:
    """The unit as the client describes it: for services that keep no register of their units."""
    return unit


def _facts(rectification: Rectification) -> dict[str, Any]:
    """What every event says about a rectification (as ``repository._facts`` selects it)."""
    finding = rectification.finding
    return {
        "division": rectification.division_code,
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
    }


async def _deadline(uow: UnitOfWork, spec: DeadlineSpec, office_division: str) -> tuple[date, date, bool]:
    start = uow.clock.today()
    deadline = await compute_deadline(
        uow.session, start=start, days=spec.days, kind=spec.kind.value, office_division=office_division
    )
    return start, deadline.due, deadline.provisional


def _touch(uow: UnitOfWork, rectification: Rectification) -> datetime:
    now = uow.clock.now()
    rectification.updated_at = now
    return now


def _require_unit(who: Principal, rectification: Rectification) -> None:
    if who.org != rectification.unit_id:
        raise NotTheUnit(f"Submit as the unit {rectification.unit_id} (your token's org claim)")


async def _pending_report(uow: UnitOfWork, rectification: Rectification) -> RectificationReport:
    if rectification.status != RectificationStatus.SUBMITTED:
        raise WrongStatus(
            f"There is no report waiting for a decision; the rectification is {rectification.status.value}"
        )
    await uow.session.refresh(rectification, ["reports"])
    return rectification.reports[-1]


@dataclass(frozen=True)
class Rectifications:
    """The rectifications of the service named ``origin``, in its schema: its name is in every event,
    ``visibility`` says which of its jurisdiction's rectifications a principal sees, and ``resolve_unit``
    what unit a finding raised over HTTP is at (findings the service raises itself name theirs)."""

    origin: Origin
    visibility: Visibility
    resolve_unit: ResolveUnit

    def event(self, kind: str, facts: Mapping[str, Any], **extra: Any) -> RectificationEvent:
        return event_for(self.origin, kind).model_validate({**facts, "origin": self.origin, **extra})

    def emit(self, uow: UnitOfWork, kind: str, rectification: Rectification, **extra: Any) -> None:
        uow.emit(self.event(kind, _facts(rectification), **extra))

    def emit_all(self, uow: UnitOfWork, kind: str, facts: Iterable[Mapping[str, Any]], **extra: Any) -> int:
        events = [self.event(kind, f, **extra) for f in facts]
        uow.emit_all(events)
        return len(events)

    async def raise_finding(
        self, uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: FindingCreate
    ) -> Rectification:
        [rectification] = await self.raise_findings(uow, who, divisions, [body])
        return rectification

    async def raise_findings(
        self, uow: UnitOfWork, who: Principal, divisions: DivisionTree, bodies: Sequence[FindingCreate]
    ) -> list[Rectification]:
        """Findings with their rectifications, written at flush or commit with one statement per table,
        each with its audit entry and ``opened`` event. The rectifications come back as written (with
        their findings), not yet in the session."""
        for code in dict.fromkeys(b.unit.division_code for b in bodies):
            divisions.require(code)
            if not who.can_see(code):
                raise OutsideJurisdiction(f"{code} is outside your jurisdiction")
        await evidence.require_usable(uow, who, [i for b in bodies for i in b.evidence_ids])
        now = uow.clock.now()
        office = who.division
        # The calendar is read once for each deadline, however many findings share it.
        deadlines: dict[tuple[DeadlineKind, int], tuple[date, date, bool]] = {}
        for body in bodies:
            key = (body.deadline.kind, body.deadline.days)
            if key not in deadlines:
                deadlines[key] = await _deadline(uow, body.deadline, office)
        findings: list[dict[str, Any]] = []
        rectifications: list[dict[str, Any]] = []
        for body in bodies:
            unit = body.unit
            started_on, deadline, provisional = deadlines[body.deadline.kind, body.deadline.days]
            findings.append(
                {
                    "id": uuid7(),
                    "origin_kind": body.origin_kind,
                    "origin_ref": body.origin_ref,
                    "category": body.category,
                    "severity": body.severity,
                    "description": body.description,
                    "evidence_ids": body.evidence_ids,
                    "unit_id": unit.id,
                    "unit_kind": unit.kind,
                    "unit_name": unit.name,
                    "competent_department": unit.competent_department,
                    "division_code": unit.division_code,
                    "office_division": office,
                    "raised_by": who.sub,
                    "raised_at": now,
                }
            )
            rectifications.append(
                {
                    "id": uuid7(),
                    "finding_id": findings[-1]["id"],
                    "requirement": body.requirement,
                    "deadline_kind": body.deadline.kind,
                    "deadline_days": body.deadline.days,
                    "started_on": started_on,
                    "deadline": deadline,
                    "provisional_deadline": provisional,
                    "status": RectificationStatus.OPEN,
                    "overdue_deadline": None,
                    "escalation_level": 0,
                    "last_step_kind": None,
                    "unit_id": unit.id,
                    "competent_department": unit.competent_department,
                    "division_code": unit.division_code,
                    "office_division": office,
                    "closed_at": None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        repository.add(uow, findings, rectifications)
        written = [
            Rectification(**r, finding=Finding(**f)) for f, r in zip(findings, rectifications, strict=True)
        ]
        for rectification in written:
            finding = rectification.finding
            uow.record(
                "finding.raised",
                "finding",
                finding.id,
                finding.division_code,
                category=finding.category,
                unit_id=finding.unit_id,
            )
            self.emit(uow, "opened", rectification, requirement=rectification.requirement)
        return written

    async def get(
        self,
        uow: UnitOfWork,
        who: Principal,
        rectification_id: UUID,
        *,
        for_update: bool = False,
        with_history: bool = False,
    ) -> Rectification:
        rectification = await repository.get_visible(
            uow.session,
            who,
            self.visibility,
            rectification_id,
            for_update=for_update,
            with_history=with_history,
        )
        if rectification is None:
            raise RectificationNotFound(f"Rectification {rectification_id} does not exist")
        return rectification

    async def page(self, uow: UnitOfWork, who: Principal, **filters: Any) -> list[Rectification]:
        return await repository.page(uow.session, who, self.visibility, **filters)

    async def submit_report(
        self, uow: UnitOfWork, who: Principal, rectification_id: UUID, body: ReportCreate
    ) -> RectificationReport:
        rectification = await self.get(uow, who, rectification_id, for_update=True)
        _require_unit(who, rectification)
        if rectification.status != RectificationStatus.OPEN:
            raise WrongStatus(
                "A report can be submitted while the rectification is open; "
                f"it is {rectification.status.value}"
            )
        await evidence.require_usable(uow, who, body.evidence_ids)
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
        self.emit(uow, "submitted", rectification, report_id=str(report.id))
        return report

    async def accept(self, uow: UnitOfWork, who: Principal, rectification_id: UUID) -> Rectification:
        """Close out (销号): the unit's report shows the problem is rectified."""
        rectification = await self.get(uow, who, rectification_id, for_update=True)
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
        self.emit(uow, "accepted", rectification, report_id=str(report.id))
        self.emit(uow, "closed", rectification)
        return rectification

    async def reject(
        self, uow: UnitOfWork, who: Principal, rectification_id: UUID, reasons: str, reply_window_days: int
    ) -> Rectification:
        rectification = await self.get(uow, who, rectification_id, for_update=True)
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
        self.emit(uow, "rejected", rectification, report_id=str(report.id), reasons=reasons)
        return rectification

    async def reply(
        self, uow: UnitOfWork, who: Principal, rectification_id: UUID, text: str
    ) -> Rectification:
        """The unit's reply (申辩) to a rejection puts its report back before the inspector."""
        rectification = await self.get(uow, who, rectification_id, for_update=True)
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
        self.emit(uow, "submitted", rectification, report_id=str(last.id))
        return rectification

    async def recheck(
        self, uow: UnitOfWork, who: Principal, rectification_id: UUID, body: RecheckCreate
    ) -> Recheck:
        """A recheck (复查) after close-out confirms it or reopens the rectification with a new deadline."""
        rectification = await self.get(uow, who, rectification_id, for_update=True)
        if rectification.status != RectificationStatus.CLOSED:
            raise WrongStatus("Only a closed-out rectification can be rechecked")
        if body.result == RecheckResult.REOPENED and body.deadline is None:
            raise InvalidInput(
                "Reopening needs a new deadline",
                errors=[
                    {
                        "field": "deadline",
                        "in": "body",
                        "message": "required when reopening",
                        "code": "missing",
                    }
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
            self.emit(uow, "reopened", rectification, recheck_id=str(done.id), notes=body.notes)
        return done

    # Timed facts and events from elsewhere --------------------------------------------------------------

    async def mark_overdue(self, uow: UnitOfWork, today: date, limit: int = 500) -> int:
        """Each deadline that passed without an accepted report becomes one overdue fact, set-wise."""
        due = await repository.mark_overdue(uow.session, today, uow.clock.now(), limit)
        return self.emit_all(uow, "overdue", due)

    async def remind(self, uow: UnitOfWork, today: date, days_before: list[int], limit: int = 500) -> int:
        """Each configured reminder (7 and 1 days before, by default) once per rectification and deadline:
        one statement per number of days, claiming a batch."""
        sent = 0
        for days in sorted(set(days_before), reverse=True):
            if sent >= limit:
                break
            claimed = await repository.claim_reminders(
                uow.session, today, days, uow.clock.now(), limit - sent
            )
            sent += self.emit_all(uow, "due_soon", claimed, days_before=days)
        return sent

    async def apply_steps(self, uow: UnitOfWork, steps: Sequence[EscalationStepTaken]) -> int:
        """Show escalation steps on their rectifications and move the deadlines, set-wise: one lock of the
        rectifications, one insert of the steps (a step recorded before, a redelivery, changes nothing),
        one update. Each rectification at most once per call (the consumer's rounds see to it). Only this
        origin's steps are delivered here (they are published per origin). Returns the steps applied."""
        about = [s for s in steps if s.rectification_id is not None]
        locked = await repository.lock_for_steps(uow.session, [UUID(s.rectification_id or "") for s in about])
        now = uow.clock.now()
        known = [s for s in about if UUID(s.rectification_id or "") in locked]
        recorded = await repository.record_steps(
            uow,
            [
                {
                    "id": uuid7(),
                    "rectification_id": UUID(s.rectification_id or ""),
                    "case_id": UUID(s.case_id),
                    "step_id": UUID(s.step_id),
                    "step_index": s.step_index,
                    "step_kind": s.step_kind,
                    "reason": s.reason,
                    "document_number": s.document_number,
                    "new_deadline": s.new_deadline,
                    "taken_at": now,
                }
                for s in known
            ],
        )
        changes = []
        for step in (s for s in known if UUID(s.step_id) in recorded):
            row = locked[UUID(step.rectification_id or "")]
            moves = step.new_deadline is not None and row["status"] != RectificationStatus.CLOSED
            changes.append(
                {
                    "id": row["id"],
                    "escalation_level": max(row["escalation_level"], step.step_index + 1),
                    "last_step_kind": step.step_kind,
                    "deadline": step.new_deadline if moves else row["deadline"],
                    "provisional_deadline": False if moves else row["provisional_deadline"],
                    "version": row["version"] + 1,
                    "updated_at": now,
                }
            )
            uow.record(
                "rectification.escalated",
                "rectification",
                row["id"],
                row["division_code"],
                step_kind=step.step_kind,
                document_number=step.document_number,
            )
        repository.update_all(uow, changes)
        return len(changes)

    async def recompute_provisional(self, uow: UnitOfWork, year: int) -> int:
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
            self.emit(uow, "deadline_recomputed", rectification, previous_deadline=previous)
            changed += 1
        return changed
