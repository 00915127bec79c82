"""The rules of the supervision procedure (RULES.md §3). No SQL, no commit: the unit of work commits state,
events and audit together.

Status moves planned → notified → self_evaluation → on_site → preliminary_opinion → feedback →
opinion_issued → reported → published, one step at a time (409 otherwise); unannounced and emergency
supervisions go from planned straight on site, with no notice and no self-evaluation. ``reported`` is
the report approved by the office (reported to the government); ``published`` its publication (二七).
Every step is an audit entry; opened, notified, feedback_given, opinion_issued and report_published are
events ``dudao.<origin>.supervision.<kind>.v1``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from dudao import numbering
from dudao.auth.principal import Principal
from dudao.config import Settings
from dudao.contracts import inspection
from dudao.contracts.supervision import SupervisionOrigin, event_for
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.jurisdiction import require_within
from dudao.rectification import Rectifications
from dudao.rectification.models import OriginKind
from dudao.rectification.schemas import FindingCreate, SupervisedUnit
from dudao.supervision import repository
from dudao.supervision.models import (
    InspectorAppointment,
    InspectorEnded,
    InspectorTermServed,
    InspectorTie,
    InspectorTraining,
    Supervision,
    SupervisionStatus,
    TeamRole,
)
from dudao.supervision.schemas import (
    REQUIRED_INVITEES,
    FeedbackCreate,
    HearingCreate,
    NoticeCreate,
    OpinionCreate,
    PreliminaryOpinionCreate,
    RecusalCreate,
    ReplyCreate,
    ReportDraft,
    SelfEvaluationCreate,
    SupervisionCreate,
    SupervisionUpdate,
    TeamSet,
)
from dudao.uow import UnitOfWork

# The registered unit of an id, within the caller's jurisdiction; a NotFound-type error otherwise.
LookupUnit = Callable[[UnitOfWork, Principal, DivisionTree, str], Awaitable[SupervisedUnit]]


class SupervisionNotFound(NotFound):
    type = "supervision-not-found"
    title = "No such supervision"


class WrongStep(Conflict):
    type = "supervision-wrong-step"
    title = "The supervision is not at the step that allows this"


class NotTheOffice(Forbidden):
    type = "not-the-supervising-office"
    title = "Only the office that runs the supervision (or one above it) may do this"


class NotTheUnit(Forbidden):
    type = "not-the-supervised-unit"
    title = "Only the supervised unit itself may do this"


class InvalidSupervision(InvalidInput):
    type = "invalid-supervision"
    title = "The supervision's data is not possible"


class NoticeTooLate(Conflict):
    type = "notice-too-late"
    title = "The written notice must go out ahead of the on-site work"


class TeamTooSmall(Conflict):
    type = "supervision-team-too-small"
    title = "A supervision team needs at least the minimum number of inspectors"


class InspectorIneligible(Conflict):
    type = "inspector-ineligible"
    title = "The inspector cannot serve on this supervision team"


class InspectorRecused(Conflict):
    type = "inspector-recused"
    title = "The inspector must recuse (回避) from a unit of this supervision"


class SelfEvaluationMissing(Conflict):
    type = "self-evaluation-missing"
    title = "Every unit submits its self-evaluation before the on-site work"


class OnSiteTooEarly(Conflict):
    type = "on-site-too-early"
    title = "The on-site work starts on the supervision's start date"


class AlreadyDone(Conflict):
    type = "supervision-already-done"
    title = "This was already done and is done once"


class ReplyWindowClosed(Conflict):
    type = "reply-window-closed"
    title = "The window for the unit's reply (申辩) has closed"


class ReplyWindowOpen(Conflict):
    type = "reply-window-open"
    title = "The opinion waits until every unit has replied or the reply window has closed"


class ReportMissing(Conflict):
    type = "supervision-report-missing"
    title = "Draft the supervision report first"


ANNOUNCED_BEFORE_ON_SITE = (SupervisionStatus.SELF_EVALUATION,)
TEAM_STEPS = (
    SupervisionStatus.PLANNED,
    SupervisionStatus.NOTIFIED,
    SupervisionStatus.SELF_EVALUATION,
)


def common_division(codes: Sequence[str]) -> str:
    """The smallest division holding every code: the county, the city or the region they share."""
    for length in (6, 4, 2):
        if len({c[:length] for c in codes}) == 1:
            return codes[0][:length].ljust(6, "0")
    raise ValueError("units in more than one region")


def _step(supervision: Supervision, *allowed: SupervisionStatus) -> None:
    if supervision.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise WrongStep(f"The supervision is {supervision.status.value}; this needs it {wanted}")


def _by_office(who: Principal, supervision: Supervision) -> None:
    if not who.can_see(supervision.office_division):
        raise NotTheOffice(f"The supervision is run by the office of {supervision.office_division}")


def _unit_of(who: Principal, supervision: Supervision, unit_id: str) -> None:
    if unit_id not in {u.unit_id for u in supervision.units}:
        raise SupervisionNotFound(f"{unit_id} is not a unit of supervision {supervision.id}")
    if who.org != unit_id:
        raise NotTheUnit(f"Act as the unit {unit_id} (your token's org claim)")


def _dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise field_error(InvalidSupervision, "ends_on", f"{ends_on} is before the start {starts_on}")


def _unique(values: Sequence[str], field: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise field_error(InvalidSupervision, f"{field}.{i}", f"{value} is given twice")
        seen.add(value)


@dataclass(frozen=True)
class Supervisions:
    """The supervisions of the service named ``origin``, in its schema: the opinion's requirements become
    findings of ``rectifications``, units are those ``lookup_unit`` finds, thresholds come from
    ``settings``."""

    origin: SupervisionOrigin
    rectifications: Rectifications
    lookup_unit: LookupUnit
    settings: Settings

    def _emit(self, uow: UnitOfWork, kind: str, supervision: Supervision, **extra: Any) -> None:
        uow.emit(
            event_for(self.origin, kind).model_validate(
                {
                    "division": supervision.division_code,
                    "origin": self.origin,
                    "supervision_id": str(supervision.id),
                    "kind": supervision.kind.value,
                    "title": supervision.title,
                    "ref": supervision.ref,
                    "office_division": supervision.office_division,
                    "unit_ids": [u.unit_id for u in supervision.units],
                    **extra,
                }
            )
        )

    def _record(self, uow: UnitOfWork, action: str, supervision: Supervision, **details: Any) -> None:
        uow.record(
            f"supervision.{action}", "supervision", supervision.id, supervision.division_code, **details
        )

    async def _change(
        self, uow: UnitOfWork, who: Principal, supervision: Supervision, **values: Any
    ) -> Supervision:
        """Write the changed columns (and the next version), then read the supervision as written."""
        repository.change(
            uow,
            {
                "id": supervision.id,
                "version": supervision.version + 1,
                "updated_at": uow.clock.now(),
                **values,
            },
        )
        await uow.flush()
        return await self.get(uow, who, supervision.id, with_parts=True)

    # --- reads ---------------------------------------------------------------------------------------

    async def get(
        self,
        uow: UnitOfWork,
        who: Principal,
        supervision_id: UUID,
        *,
        for_update: bool = False,
        with_parts: bool = False,
    ) -> Supervision:
        """The supervision, with its units (and with ``with_parts`` its team and hearings); 404 when it
        does not exist or lies outside the caller's jurisdiction."""
        supervision = await repository.get_visible(
            uow.session, who, supervision_id, for_update=for_update, with_parts=with_parts
        )
        if supervision is None:
            raise SupervisionNotFound(f"Supervision {supervision_id} does not exist")
        return supervision

    async def page(self, uow: UnitOfWork, who: Principal, **filters: Any) -> list[Supervision]:
        return await repository.page(uow.session, who, **filters)

    async def public_get(self, uow: UnitOfWork, supervision_id: UUID) -> Supervision:
        supervision = await repository.public_get(uow.session, supervision_id)
        if supervision is None:
            raise SupervisionNotFound(f"No published supervision report {supervision_id}")
        return supervision

    async def public_page(
        self, uow: UnitOfWork, *, after: UUID | None, limit: int, within: str | None
    ) -> list[Supervision]:
        return await repository.public_page(uow.session, after=after, limit=limit, within=within)

    # --- planning ------------------------------------------------------------------------------------

    async def open(
        self,
        uow: UnitOfWork,
        who: Principal,
        divisions: DivisionTree,
        body: SupervisionCreate,
        *,
        ref: str | None = None,
    ) -> Supervision:
        """Open a supervision of registered units within the caller's jurisdiction. ``ref`` names what it
        serves (``duty-evaluation:<id>``, ``emergency:<id>``)."""
        _dates(body.starts_on, body.ends_on)
        today = uow.clock.today()
        if body.starts_on < today:
            raise field_error(InvalidSupervision, "starts_on", f"{body.starts_on} is in the past")
        _unique(body.unit_ids, "unit_ids")
        _unique([c.code for c in body.checklist], "checklist")
        units = [await self.lookup_unit(uow, who, divisions, unit_id) for unit_id in body.unit_ids]
        for unit in units:
            require_within(divisions, who, unit.division_code)
        now = uow.clock.now()
        supervision_id = uuid7()
        repository.add(
            uow,
            {
                "id": supervision_id,
                "kind": body.kind,
                "title": body.title,
                "topic": body.topic,
                "ref": ref,
                "plan": body.plan,
                "checklist": [c.model_dump() for c in body.checklist],
                "office_division": who.division,
                "division_code": common_division([u.division_code for u in units]),
                "starts_on": body.starts_on,
                "ends_on": body.ends_on,
                "status": SupervisionStatus.PLANNED,
                "preliminary_items": [],
                "feedback_attendance": [],
                "opened_by": who.sub,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            },
            [
                {
                    "supervision_id": supervision_id,
                    "unit_id": u.id,
                    "unit_kind": u.kind,
                    "unit_name": u.name,
                    "competent_department": u.competent_department,
                    "division_code": u.division_code,
                    "self_evaluation_evidence_ids": [],
                }
                for u in units
            ],
        )
        await uow.flush()
        supervision = await self.get(uow, who, supervision_id, with_parts=True)
        self._record(uow, "opened", supervision, kind=body.kind.value, ref=ref, units=len(units))
        self._emit(uow, "opened", supervision, starts_on=body.starts_on, ends_on=body.ends_on)
        return supervision

    async def update(
        self,
        uow: UnitOfWork,
        who: Principal,
        supervision_id: UUID,
        if_match: str | None,
        body: SupervisionUpdate,
    ) -> Supervision:
        """Change a planned supervision's title, plan, checklist or dates (If-Match)."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        require_match(if_match, supervision.id, supervision.version)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.PLANNED)
        changes = body.model_dump(exclude_none=True)
        if not changes:
            return await self.get(uow, who, supervision.id, with_parts=True)
        _dates(changes.get("starts_on", supervision.starts_on), changes.get("ends_on", supervision.ends_on))
        if body.checklist is not None:
            _unique([c.code for c in body.checklist], "checklist")
        self._record(uow, "updated", supervision, changes=sorted(changes))
        return await self._change(uow, who, supervision, **changes)

    async def notify(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: NoticeCreate
    ) -> Supervision:
        """The written notice in advance (督导通知): at least the configured days before the on-site work."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        if not supervision.kind.announced:
            raise WrongStep(f"A {supervision.kind.value} supervision goes on site without notice")
        _step(supervision, SupervisionStatus.PLANNED)
        today = uow.clock.today()
        ahead = self.settings.supervision_notice_days
        if today + timedelta(days=ahead) > supervision.starts_on:
            raise NoticeTooLate(
                f"The on-site work starts {supervision.starts_on}; notice is due {ahead} day(s) before it"
            )
        self._record(uow, "notified", supervision)
        changed = await self._change(
            uow, who, supervision, status=SupervisionStatus.NOTIFIED, notice_text=body.text, notified_on=today
        )
        self._emit(uow, "notified", changed, notified_on=today, starts_on=changed.starts_on)
        return changed

    async def set_team(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: TeamSet
    ) -> Supervision:
        """The team (督导组): at least the minimum of inspectors, one leader, each appointed, trained and
        serving on the start date, none tied to a unit of the supervision."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, *TEAM_STEPS)
        _unique([str(m.inspector_id) for m in body.members], "members")
        leaders = [m for m in body.members if m.role == TeamRole.LEADER]
        if len(leaders) != 1:
            raise field_error(InvalidSupervision, "members", f"name one leader, not {len(leaders)}")
        names = await self._check_team(
            uow, [m.inspector_id for m in body.members], supervision, supervision.starts_on
        )
        await repository.replace_team(
            uow,
            supervision.id,
            [
                {
                    "supervision_id": supervision.id,
                    "inspector_id": m.inspector_id,
                    "name": names[m.inspector_id],
                    "role": m.role,
                }
                for m in body.members
            ],
        )
        self._record(uow, "team_set", supervision, inspectors=[str(m.inspector_id) for m in body.members])
        return await self._change(uow, who, supervision)

    async def _check_team(
        self, uow: UnitOfWork, inspector_ids: list[UUID], supervision: Supervision, on: date
    ) -> dict[UUID, str]:
        minimum = self.settings.supervision_min_team_size
        if len(inspector_ids) < minimum:
            raise TeamTooSmall(f"The team has {len(inspector_ids)} inspectors; at least {minimum} are needed")
        units = [u.unit_id for u in supervision.units]
        known = await repository.standings(uow.session, inspector_ids, units, on)
        for inspector_id in inspector_ids:
            standing = known.get(inspector_id)
            if standing is None:
                raise InspectorIneligible(f"Inspector {inspector_id} has no announced appointment on record")
            gaps = []
            if standing.ended_on is not None and standing.ended_on <= on:
                gaps.append(f"the appointment ended on {standing.ended_on}")
            if standing.appointed_on > on:
                gaps.append(f"the appointment starts on {standing.appointed_on}")
            if standing.part_time and not standing.term_covers:
                gaps.append(f"no term covers {on}")
            if not standing.trained:
                gaps.append("no pre-service training (岗前培训) on record")
            if gaps:
                raise InspectorIneligible(f"Inspector {standing.name} ({inspector_id}): " + "; ".join(gaps))
            if standing.tied_units:
                raise InspectorRecused(
                    f"Inspector {standing.name} ({inspector_id}) has a tie to "
                    + ", ".join(standing.tied_units)
                )
        return {i: known[i].name for i in inspector_ids}

    # --- the units' self-evaluation and the on-site work ----------------------------------------------

    async def self_evaluate(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, unit_id: str, body: SelfEvaluationCreate
    ) -> Supervision:
        """The unit's self-evaluation report (自评报告) with evidence, once, after the notice."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _unit_of(who, supervision, unit_id)
        _step(supervision, SupervisionStatus.NOTIFIED, SupervisionStatus.SELF_EVALUATION)
        unit = next(u for u in supervision.units if u.unit_id == unit_id)
        if unit.self_evaluated_at is not None:
            raise AlreadyDone(f"{unit_id} submitted its self-evaluation at {unit.self_evaluated_at}")
        await evidence.require_usable(uow, who, body.evidence_ids)
        repository.change_unit(
            uow,
            {
                "supervision_id": supervision.id,
                "unit_id": unit_id,
                "self_evaluation": body.text,
                "self_evaluation_evidence_ids": body.evidence_ids,
                "self_evaluated_at": uow.clock.now(),
            },
        )
        self._record(uow, "self_evaluated", supervision, unit_id=unit_id, evidence=len(body.evidence_ids))
        return await self._change(uow, who, supervision, status=SupervisionStatus.SELF_EVALUATION)

    async def start_on_site(self, uow: UnitOfWork, who: Principal, supervision_id: UUID) -> Supervision:
        """The team goes on site: from the start date, with every self-evaluation in (announced kinds),
        and a team that can still serve today."""
        supervision = await self.get(uow, who, supervision_id, for_update=True, with_parts=True)
        _by_office(who, supervision)
        if supervision.kind.announced:
            _step(supervision, *ANNOUNCED_BEFORE_ON_SITE)
            missing = [u.unit_id for u in supervision.units if u.self_evaluated_at is None]
            if missing:
                raise SelfEvaluationMissing(f"No self-evaluation yet from {', '.join(missing)}")
        else:
            _step(supervision, SupervisionStatus.PLANNED)
        today = uow.clock.today()
        if today < supervision.starts_on:
            raise OnSiteTooEarly(f"The on-site work starts on {supervision.starts_on}")
        await self._check_team(uow, [m.inspector_id for m in supervision.team], supervision, today)
        self._record(uow, "on_site", supervision, on=str(today))
        return await self._change(uow, who, supervision, status=SupervisionStatus.ON_SITE, on_site_on=today)

    async def recuse(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: RecusalCreate
    ) -> Supervision:
        """An inspector's tie to a unit of this supervision (回避), declared before the on-site work: from now
        on they serve on no team supervising the unit, so a team holding them must be set again before the
        team goes on site (where it is checked once more). The tie joins those school-inspection announces."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, *TEAM_STEPS)
        if body.unit_id not in {u.unit_id for u in supervision.units}:
            raise field_error(
                InvalidSupervision, "unit_id", f"{body.unit_id} is not a unit of this supervision"
            )
        tie = {"inspector_id": body.inspector_id, "unit_id": body.unit_id, "kind": body.kind}
        repository.project(uow, InspectorTie, [tie])
        self._record(
            uow,
            "recusal_recorded",
            supervision,
            inspector_id=str(body.inspector_id),
            unit_id=body.unit_id,
            kind=body.kind,
            reason=body.reason,
        )
        return await self._change(uow, who, supervision)

    async def record_hearing(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: HearingCreate
    ) -> Supervision:
        """A hearing of pupils, parents or teachers on site: the group, how many, what they said."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _step(supervision, SupervisionStatus.ON_SITE)
        if body.unit_id not in {u.unit_id for u in supervision.units}:
            raise field_error(
                InvalidSupervision, "unit_id", f"{body.unit_id} is not a unit of this supervision"
            )
        if not supervision.starts_on <= body.heard_on <= uow.clock.today():
            raise field_error(
                InvalidSupervision, "heard_on", f"{body.heard_on} is not a day of the on-site work so far"
            )
        repository.add_hearing(
            uow,
            {
                "id": uuid7(),
                "supervision_id": supervision.id,
                **body.model_dump(),
                "recorded_by": who.sub,
                "recorded_at": uow.clock.now(),
            },
        )
        self._record(uow, "hearing_recorded", supervision, unit_id=body.unit_id, group=body.heard_group.value)
        return await self._change(uow, who, supervision)

    # --- opinion and feedback ------------------------------------------------------------------------

    def _items_of(self, supervision: Supervision, unit_ids: Sequence[str], field: str) -> None:
        units = {u.unit_id for u in supervision.units}
        for i, unit_id in enumerate(unit_ids):
            if unit_id not in units:
                raise field_error(
                    InvalidSupervision, f"{field}.{i}.unit_id", f"{unit_id} is not a unit of this supervision"
                )

    async def preliminary_opinion(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: PreliminaryOpinionCreate
    ) -> Supervision:
        """The team's preliminary opinion (初步意见), with the problems item by item."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _step(supervision, SupervisionStatus.ON_SITE)
        self._items_of(supervision, [i.unit_id for i in body.items], "items")
        codes = {c["code"] for c in supervision.checklist}
        for i, item in enumerate(body.items):
            if item.checklist_code is not None and item.checklist_code not in codes:
                raise field_error(
                    InvalidSupervision,
                    f"items.{i}.checklist_code",
                    f"{item.checklist_code} is not an item of the checklist",
                )
        self._record(uow, "preliminary_opinion", supervision, items=len(body.items))
        return await self._change(
            uow,
            who,
            supervision,
            status=SupervisionStatus.PRELIMINARY_OPINION,
            preliminary_opinion=body.text,
            preliminary_items=[i.model_dump() for i in body.items],
        )

    async def give_feedback(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, body: FeedbackCreate
    ) -> Supervision:
        """Feedback (反馈, 二八): a meeting with discipline inspection, the organisation department and the
        performance office invited (attendance recorded), or a written notice. The reply window opens."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.PRELIMINARY_OPINION)
        if body.mode.value == "meeting":
            missing = REQUIRED_INVITEES - {a.body for a in body.attendance}
            if missing:
                raise field_error(
                    InvalidSupervision, "attendance", f"invite {', '.join(sorted(missing))} to the meeting"
                )
        today = uow.clock.today()
        reply_due = today + timedelta(days=self.settings.supervision_reply_window_days)
        self._record(uow, "feedback_given", supervision, mode=body.mode.value, reply_due=str(reply_due))
        changed = await self._change(
            uow,
            who,
            supervision,
            status=SupervisionStatus.FEEDBACK,
            feedback_mode=body.mode,
            feedback_on=today,
            feedback_text=body.text,
            feedback_attendance=[a.model_dump() for a in body.attendance],
            reply_due=reply_due,
        )
        self._emit(
            uow, "feedback_given", changed, mode=body.mode.value, feedback_on=today, reply_due=reply_due
        )
        return changed

    async def reply(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, unit_id: str, body: ReplyCreate
    ) -> Supervision:
        """The unit's reply (申辩) to the feedback, once, within the window."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _unit_of(who, supervision, unit_id)
        _step(supervision, SupervisionStatus.FEEDBACK)
        assert supervision.reply_due is not None
        if uow.clock.today() > supervision.reply_due:
            raise ReplyWindowClosed(f"Replies were due by {supervision.reply_due}")
        unit = next(u for u in supervision.units if u.unit_id == unit_id)
        if unit.replied_at is not None:
            raise AlreadyDone(f"{unit_id} replied at {unit.replied_at}")
        repository.change_unit(
            uow,
            {
                "supervision_id": supervision.id,
                "unit_id": unit_id,
                "reply": body.text,
                "replied_at": uow.clock.now(),
            },
        )
        self._record(uow, "replied", supervision, unit_id=unit_id)
        return await self._change(uow, who, supervision)

    async def issue_opinion(
        self,
        uow: UnitOfWork,
        who: Principal,
        divisions: DivisionTree,
        supervision_id: UUID,
        body: OpinionCreate,
    ) -> Supervision:
        """The supervision opinion (督导意见书) with the office's next document number; each rectification
        requirement becomes a finding (origin_kind supervision, origin_ref the supervision id)."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.FEEDBACK)
        today = uow.clock.today()
        assert supervision.reply_due is not None
        waiting = [u.unit_id for u in supervision.units if u.replied_at is None]
        if waiting and today <= supervision.reply_due:
            raise ReplyWindowOpen(f"{', '.join(waiting)} may reply until {supervision.reply_due}")
        self._items_of(supervision, [r.unit_id for r in body.requirements], "requirements")
        units = {
            u.unit_id: SupervisedUnit(
                id=u.unit_id,
                kind=u.unit_kind,
                name=u.unit_name,
                division_code=u.division_code,
                competent_department=u.competent_department,
            )
            for u in supervision.units
        }
        [[number]] = await numbering.reserve(
            uow, divisions, [numbering.Wanted(supervision.office_division, "supervision_opinion", today.year)]
        )
        findings = [
            FindingCreate(
                unit=units[requirement.unit_id],
                origin_kind=OriginKind.SUPERVISION,
                origin_ref=str(supervision.id),
                category=requirement.category,
                severity=requirement.severity,
                description=requirement.description,
                requirement=requirement.requirement,
                deadline=requirement.deadline,
            )
            for requirement in body.requirements
        ]
        raised = await self.rectifications.raise_findings(uow, who, divisions, findings)
        rectification_ids = [str(r.id) for r in raised]
        self._record(
            uow, "opinion_issued", supervision, document_number=number.text, findings=len(rectification_ids)
        )
        changed = await self._change(
            uow,
            who,
            supervision,
            status=SupervisionStatus.OPINION_ISSUED,
            opinion_number=number.text,
            opinion_text=body.text,
            opinion_issued_on=today,
        )
        self._emit(
            uow,
            "opinion_issued",
            changed,
            document_number=number.text,
            issued_on=today,
            rectification_ids=rectification_ids,
        )
        return changed

    # --- the report (二七) ----------------------------------------------------------------------------

    async def draft_report(
        self, uow: UnitOfWork, who: Principal, supervision_id: UUID, if_match: str | None, body: ReportDraft
    ) -> Supervision:
        """Write or rewrite the report's draft (If-Match) until the office approves it."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        require_match(if_match, supervision.id, supervision.version)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.OPINION_ISSUED)
        self._record(uow, "report_drafted", supervision)
        return await self._change(uow, who, supervision, report_title=body.title, report_text=body.text)

    async def approve_report(self, uow: UnitOfWork, who: Principal, supervision_id: UUID) -> Supervision:
        """The office approves the report: it is reported to the government and filed with the level above."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.OPINION_ISSUED)
        if supervision.report_text is None:
            raise ReportMissing("Draft the report with PUT …/report first")
        self._record(uow, "report_approved", supervision)
        return await self._change(
            uow,
            who,
            supervision,
            status=SupervisionStatus.REPORTED,
            report_approved_by=who.sub,
            report_approved_at=uow.clock.now(),
        )

    async def publish_report(self, uow: UnitOfWork, who: Principal, supervision_id: UUID) -> Supervision:
        """Publish the approved report (二七): from now on the public API serves it."""
        supervision = await self.get(uow, who, supervision_id, for_update=True)
        _by_office(who, supervision)
        _step(supervision, SupervisionStatus.REPORTED)
        now = uow.clock.now()
        self._record(uow, "report_published", supervision)
        changed = await self._change(
            uow, who, supervision, status=SupervisionStatus.PUBLISHED, published_at=now
        )
        assert changed.report_title is not None
        self._emit(uow, "report_published", changed, report_title=changed.report_title, published_at=now)
        return changed

    # --- the inspector projection (school-inspection's events) ----------------------------------------

    def appointed(self, uow: UnitOfWork, events: Sequence[inspection.InspectorAppointed]) -> None:
        repository.project(
            uow,
            InspectorAppointment,
            [
                {
                    "inspector_id": UUID(e.inspector_id),
                    "name": e.name,
                    "division_code": e.division,
                    "employment": e.employment,
                    "appointed_on": e.appointed_on,
                }
                for e in events
            ],
        )
        repository.project(
            uow,
            InspectorTermServed,
            [
                {
                    "inspector_id": UUID(e.inspector_id),
                    "sequence": 1,
                    "starts_on": e.appointed_on,
                    "ends_on": e.term_ends_on,
                }
                for e in events
                if e.term_ends_on is not None
            ],
        )

    def renewed(self, uow: UnitOfWork, events: Sequence[inspection.InspectorTermRenewed]) -> None:
        repository.project(
            uow,
            InspectorTermServed,
            [
                {
                    "inspector_id": UUID(e.inspector_id),
                    "sequence": e.sequence,
                    "starts_on": e.starts_on,
                    "ends_on": e.ends_on,
                }
                for e in events
            ],
        )

    def trained(self, uow: UnitOfWork, events: Sequence[inspection.InspectorTrainingRecorded]) -> None:
        repository.project(
            uow,
            InspectorTraining,
            [
                {
                    "training_id": UUID(e.training_id),
                    "inspector_id": UUID(e.inspector_id),
                    "kind": e.kind,
                    "held_on": e.held_on,
                }
                for e in events
            ],
        )

    def tied(self, uow: UnitOfWork, events: Sequence[inspection.InspectorConflictRecorded]) -> None:
        repository.project(
            uow,
            InspectorTie,
            [{"inspector_id": UUID(e.inspector_id), "unit_id": e.unit_id, "kind": e.kind} for e in events],
        )

    def ended(self, uow: UnitOfWork, events: Sequence[inspection.InspectorAppointmentEnded]) -> None:
        repository.project(
            uow,
            InspectorEnded,
            [{"inspector_id": UUID(e.inspector_id), "ended_on": e.ended_on} for e in events],
        )
