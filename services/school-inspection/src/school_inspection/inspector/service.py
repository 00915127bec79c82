"""The rules about inspectors, their appointment, terms, training, recusal, reviews and assignments.

Every threshold comes from the inspection policy in force for the division concerned. No SQL, no
commit: the unit of work commits rows, outbox and audit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from dudao import policies
from dudao.auth.principal import Principal, Role
from dudao.contracts.inspection import (
    InspectorAppointed,
    InspectorAppointmentEnded,
    InspectorConflictRecorded,
    InspectorTermRenewed,
    InspectorTrainingRecorded,
    ResponsibleInspectorAssigned,
)
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.encryption import FieldCipher, mask_email, mask_phone
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.jurisdiction import require_visible
from dudao.uow import UnitOfWork
from school_inspection.inspector import repository
from school_inspection.inspector.models import (
    AppointmentStep,
    Assignment,
    ConflictOfInterest,
    Employment,
    InspectionPolicy,
    Inspector,
    InspectorAppointmentStep,
    InspectorStatus,
    InspectorTerm,
    PerformanceReview,
    Rating,
    TrainingRecord,
)
from school_inspection.inspector.schemas import (
    AssignmentCreate,
    AssignmentEnd,
    ConflictCreate,
    InspectorCreate,
    InspectorDetail,
    InspectorRead,
    InspectorUpdate,
    PolicyWrite,
    ReviewCreate,
    StepCreate,
    StepInput,
    TermRenewal,
    TrainingCreate,
)
from school_inspection.school import service as schools
from school_inspection.school.models import School
from school_inspection.school.service import require_within, visible_division

ONE_DAY = timedelta(days=1)
STEP_ORDER = list(AppointmentStep)
STATUS_AFTER = {
    AppointmentStep.RECOMMENDATION: InspectorStatus.RECOMMENDED,
    AppointmentStep.REVIEW: InspectorStatus.REVIEWED,
    AppointmentStep.PUBLIC_NOTICE: InspectorStatus.PUBLICISED,
    AppointmentStep.ANNOUNCEMENT: InspectorStatus.APPOINTED,
}
# The steps at which the office checks the candidate's qualifications against the policy.
QUALIFYING_STEPS = {AppointmentStep.REVIEW, AppointmentStep.ANNOUNCEMENT}
# Associated data of the sealed contacts: a value copied into another column does not open there.
PHONE_CONTEXT = "inspection.inspector.contact_phone"
EMAIL_CONTEXT = "inspection.inspector.contact_email"


class InspectorNotFound(NotFound):
    type = "inspector-not-found"
    title = "No such inspector"


class AssignmentNotFound(NotFound):
    type = "assignment-not-found"
    title = "No such assignment"


class InvalidDate(InvalidInput):
    type = "invalid-date"
    title = "The date is not possible here"


class StepOutOfOrder(Conflict):
    type = "appointment-step-out-of-order"
    title = "Appointment steps go recommendation → review → public notice → announcement"


class InspectorUnqualified(Conflict):
    type = "inspector-unqualified"
    title = "The candidate does not meet the qualifications for inspectors"


class AppointmentEnded(Conflict):
    type = "appointment-ended"
    title = "The inspector's appointment has ended"


class InspectorNotAppointed(Conflict):
    type = "inspector-not-appointed"
    title = "The inspector is not serving an announced appointment"


class NotPartTime(Conflict):
    type = "inspector-not-part-time"
    title = "Only part-time inspectors serve terms"


class TermLimitReached(Conflict):
    type = "term-limit-reached"
    title = "The inspector has served the most consecutive terms allowed"


class InspectorUntrained(Conflict):
    type = "inspector-untrained"
    title = "The inspector has no pre-service training on record"


class InspectorRecused(Conflict):
    type = "inspector-recused"
    title = "The inspector must recuse from this school"


# What ``ensure_eligible`` and ``ensure_can_serve`` refuse with, for the routes that call them.
INELIGIBLE = (InspectorNotAppointed, AppointmentEnded, InspectorUntrained)
CANNOT_SERVE = (*INELIGIBLE, InspectorRecused)


class InspectorOverLoad(Conflict):
    type = "inspector-over-load"
    title = "The inspector already covers as many schools as the ratio allows"


class DedicatedInspectorRequired(Conflict):
    type = "dedicated-inspector-required"
    title = "A school this large needs an inspector of its own (1:1)"


class SchoolAlreadyCovered(Conflict):
    type = "school-already-covered"
    title = "The school has a responsible inspector for that period"


class SchoolOutsideInspectorDivision(Conflict):
    type = "school-outside-inspector-division"
    title = "The school lies outside the division of the office that appointed the inspector"


class ReviewExists(Conflict):
    type = "review-exists"
    title = "The inspector's review for that year is already recorded"


class AssignmentEnded(Conflict):
    type = "assignment-ended"
    title = "The assignment has already ended"


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise field_error(InvalidDate, field, f"{day} is in the future (today is {today})")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


# --- policy -------------------------------------------------------------------------------------------


async def effective_policy(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, division_code: str | None
) -> InspectionPolicy:
    return await repository.policy_for(uow.session, visible_division(who, divisions, division_code))


async def set_policy(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    division_code: str,
    if_match: str | None,
    body: PolicyWrite,
) -> tuple[InspectionPolicy, bool]:
    """Create or replace the policy of a jurisdiction; True when it was created."""
    return await policies.put(
        uow, who, divisions, InspectionPolicy, division_code, if_match, body.model_dump()
    )


async def policy_page(
    uow: UnitOfWork, who: Principal, *, after: UUID | None, limit: int
) -> list[InspectionPolicy]:
    return await repository.policy_page(uow.session, who, after=after, limit=limit + 1)


# --- inspectors ---------------------------------------------------------------------------------------


def _sees_contacts(who: Principal) -> bool:
    """Offices (within whose jurisdiction the inspector is, or they would not see them) see the contacts
    in full; inspectors and everyone else, masked."""
    return who.has_any(Role.SUPERVISION_OFFICE)


def _sealed(cipher: FieldCipher, contacts: dict[str, Any]) -> dict[str, Any]:
    """The contact fields among ``contacts`` as their sealed columns."""
    sealed = {}
    if "contact_phone" in contacts:
        sealed["contact_phone_sealed"] = cipher.encrypt(contacts["contact_phone"], context=PHONE_CONTEXT)
    if contacts.get("contact_email") is not None:
        sealed["contact_email_sealed"] = cipher.encrypt(contacts["contact_email"], context=EMAIL_CONTEXT)
    return sealed


def phone_of(cipher: FieldCipher, inspector: Inspector) -> str:
    return cipher.decrypt(inspector.contact_phone_sealed, context=PHONE_CONTEXT)


def _shown_fields(cipher: FieldCipher, who: Principal, inspector: Inspector) -> dict[str, Any]:
    full = _sees_contacts(who)
    phone = phone_of(cipher, inspector)
    sealed_email = inspector.contact_email_sealed
    email = None if sealed_email is None else cipher.decrypt(sealed_email, context=EMAIL_CONTEXT)
    fields = {c.key: getattr(inspector, c.key) for c in Inspector.__table__.columns}
    return fields | {
        "contact_phone": phone if full else mask_phone(phone),
        "contact_email": email if full or email is None else mask_email(email),
        "contacts_masked": not full,
    }


def shown(cipher: FieldCipher, who: Principal, inspector: Inspector) -> InspectorRead:
    """The inspector as ``who`` may see them: the contacts opened, and masked unless ``who`` needs them."""
    return InspectorRead.model_validate(_shown_fields(cipher, who, inspector))


def shown_in_detail(cipher: FieldCipher, who: Principal, inspector: Inspector) -> InspectorDetail:
    """:func:`shown`, with the appointment steps and terms."""
    fields = _shown_fields(cipher, who, inspector) | {"steps": inspector.steps, "terms": inspector.terms}
    return InspectorDetail.model_validate(fields, from_attributes=True)


def _audit_reads(uow: UnitOfWork, who: Principal, inspectors: Sequence[Inspector], via: str) -> None:
    """One audit entry for the read, naming every inspector whose contacts ``who`` reads in full."""
    if _sees_contacts(who):
        shown = [{"id": i.id, "division_code": i.division_code} for i in inspectors]
        uow.record_reads("inspector.contacts_read", "inspector", shown, via)


async def _inspector(
    uow: UnitOfWork,
    who: Principal,
    inspector_id: UUID,
    *,
    for_update: bool = False,
    with_history: bool = False,
) -> Inspector:
    inspector = await repository.get_visible(
        uow.session, who, inspector_id, for_update=for_update, with_history=with_history
    )
    if inspector is None:
        raise InspectorNotFound(f"Inspector {inspector_id} does not exist")
    return inspector


def _step(
    inspector: Inspector, step: AppointmentStep, body: StepInput, who: Principal, uow: UnitOfWork
) -> None:
    inspector.steps.append(
        InspectorAppointmentStep(
            step=step,
            step_date=body.date,
            acted_by=body.acted_by,
            document_number=body.document_number,
            note=body.note,
            recorded_by=who.sub,
            recorded_at=uow.clock.now(),
        )
    )
    inspector.status = STATUS_AFTER[step]


async def recommend(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, cipher: FieldCipher, body: InspectorCreate
) -> Inspector:
    """Record a recommendation (推荐): the inspector's record starts with its first appointment step."""
    require_within(divisions, who, body.division_code)
    _not_future(body.recommendation.date, uow.clock.today(), "recommendation.date")
    now = uow.clock.now()
    contacts = {"contact_phone", "contact_email"}
    inspector = Inspector(
        **body.model_dump(exclude={"recommendation", *contacts}),
        **_sealed(cipher, body.model_dump(include=contacts)),
        status=InspectorStatus.RECOMMENDED,
        created_at=now,
        updated_at=now,
        steps=[],
        terms=[],
    )
    _step(inspector, AppointmentStep.RECOMMENDATION, body.recommendation, who, uow)
    await repository.add(uow.session, inspector)
    uow.record(
        "inspector.recommended", "inspector", inspector.id, inspector.division_code, name=inspector.name
    )
    return inspector


async def get(uow: UnitOfWork, who: Principal, inspector_id: UUID) -> Inspector:
    """One inspector with their history; a read of their contacts in full is audited."""
    inspector = await _inspector(uow, who, inspector_id, with_history=True)
    _audit_reads(uow, who, [inspector], "detail")
    return inspector


async def update(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    inspector_id: UUID,
    if_match: str | None,
    body: InspectorUpdate,
) -> Inspector:
    inspector = await _inspector(uow, who, inspector_id, for_update=True, with_history=True)
    require_match(if_match, inspector.id, inspector.version)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return inspector
    contacts = {"contact_phone", "contact_email"}
    plain = {k: v for k, v in changes.items() if k not in contacts}
    for field, value in (plain | _sealed(cipher, changes)).items():
        setattr(inspector, field, value)
    inspector.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record(
        "inspector.updated", "inspector", inspector.id, inspector.division_code, changes=sorted(changes)
    )
    return inspector


def _require_qualified(inspector: Inspector, policy: InspectionPolicy) -> None:
    gaps = []
    if inspector.degree.rank < policy.min_degree.rank:
        gaps.append(f"the degree {inspector.degree} is below the required {policy.min_degree}")
    if inspector.education_work_years < policy.min_education_years:
        gaps.append(
            f"{inspector.education_work_years} years in education work, {policy.min_education_years} required"
        )
    if gaps:
        raise InspectorUnqualified("; ".join(gaps))


def _term(
    sequence: int, starts_on: date, policy: InspectionPolicy, who: Principal, uow: UnitOfWork
) -> InspectorTerm:
    return InspectorTerm(
        sequence=sequence,
        starts_on=starts_on,
        ends_on=_add_years(starts_on, policy.part_time_term_years) - ONE_DAY,
        recorded_by=who.sub,
        recorded_at=uow.clock.now(),
    )


async def take_step(uow: UnitOfWork, who: Principal, inspector_id: UUID, body: StepCreate) -> Inspector:
    """Record the next appointment step; only the next one in order is accepted."""
    inspector = await _inspector(uow, who, inspector_id, for_update=True, with_history=True)
    if inspector.status == InspectorStatus.ENDED:
        raise AppointmentEnded(f"The appointment of inspector {inspector.id} ended on {inspector.ended_on}")
    done = len(inspector.steps)
    if done == len(STEP_ORDER):
        raise StepOutOfOrder("The appointment is complete: all four steps are recorded")
    expected = STEP_ORDER[done]
    if body.step != expected:
        raise StepOutOfOrder(f"The next step is {expected}, not {body.step}")
    today = uow.clock.today()
    _not_future(body.date, today, "date")
    previous = inspector.steps[-1].step_date
    if body.date < previous:
        raise field_error(InvalidDate, "date", f"{body.date} is before the previous step's date {previous}")
    policy = await repository.policy_for(uow.session, inspector.division_code)
    if body.step in QUALIFYING_STEPS:
        _require_qualified(inspector, policy)
    _step(inspector, body.step, body, who, uow)
    inspector.updated_at = uow.clock.now()
    if body.step == AppointmentStep.ANNOUNCEMENT:
        inspector.appointed_on = body.date
        if inspector.employment == Employment.PART_TIME:
            inspector.terms.append(_term(1, body.date, policy, who, uow))
    await uow.session.flush()
    uow.record(
        f"inspector.{body.step.value}",
        "inspector",
        inspector.id,
        inspector.division_code,
        date=str(body.date),
    )
    if body.step == AppointmentStep.ANNOUNCEMENT:
        uow.emit(
            InspectorAppointed(
                division=inspector.division_code,
                inspector_id=str(inspector.id),
                name=inspector.name,
                employment=inspector.employment.value,
                appointed_on=body.date,
                term_ends_on=inspector.terms[-1].ends_on if inspector.terms else None,
            )
        )
    return inspector


def _require_serving(inspector: Inspector) -> None:
    if inspector.status == InspectorStatus.ENDED:
        raise AppointmentEnded(f"The appointment of inspector {inspector.id} ended on {inspector.ended_on}")
    if inspector.status != InspectorStatus.APPOINTED:
        raise InspectorNotAppointed(f"Inspector {inspector.id} is {inspector.status}, not yet appointed")


def _consecutive_run(terms: list[InspectorTerm]) -> int:
    """How many terms in a row end with the last one, each starting the day after the one before ends."""
    run = 1 if terms else 0
    for earlier, later in zip(reversed(terms[:-1]), reversed(terms[1:]), strict=True):
        if later.starts_on != earlier.ends_on + ONE_DAY:
            break
        run += 1
    return run


async def renew_term(uow: UnitOfWork, who: Principal, inspector_id: UUID, body: TermRenewal) -> Inspector:
    """Reappoint a part-time inspector for another term; a term beyond the consecutive limit is refused."""
    inspector = await _inspector(uow, who, inspector_id, for_update=True, with_history=True)
    _require_serving(inspector)
    if inspector.employment != Employment.PART_TIME:
        raise NotPartTime(f"Inspector {inspector.id} is full-time")
    last = inspector.terms[-1]
    starts_on = body.starts_on or last.ends_on + ONE_DAY
    if starts_on <= last.ends_on:
        raise field_error(
            InvalidDate, "starts_on", f"The current term runs to {last.ends_on}; a new one starts after it"
        )
    policy = await repository.policy_for(uow.session, inspector.division_code)
    run = _consecutive_run(inspector.terms) + 1 if starts_on == last.ends_on + ONE_DAY else 1
    if run > policy.max_consecutive_terms:
        raise TermLimitReached(
            f"This would be term {run} in a row; at most {policy.max_consecutive_terms} are allowed"
        )
    term = _term(last.sequence + 1, starts_on, policy, who, uow)
    inspector.terms.append(term)
    inspector.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record(
        "inspector.term_renewed",
        "inspector",
        inspector.id,
        inspector.division_code,
        sequence=term.sequence,
        starts_on=str(term.starts_on),
        ends_on=str(term.ends_on),
    )
    uow.emit(
        InspectorTermRenewed(
            division=inspector.division_code,
            inspector_id=str(inspector.id),
            sequence=term.sequence,
            starts_on=term.starts_on,
            ends_on=term.ends_on,
        )
    )
    return inspector


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    status: InspectorStatus | None,
    employment: Employment | None,
) -> list[Inspector]:
    """A page (``limit + 1`` rows); each inspector whose contacts are shown in full is audited."""
    inspectors = await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, status=status, employment=employment
    )
    _audit_reads(uow, who, inspectors[:limit], "list")
    return inspectors


# --- the ledgers: training, conflicts of interest, reviews --------------------------------------------


async def record_training(
    uow: UnitOfWork, who: Principal, inspector_id: UUID, body: TrainingCreate
) -> TrainingRecord:
    inspector = await _inspector(uow, who, inspector_id)
    if inspector.status == InspectorStatus.ENDED:
        raise AppointmentEnded(f"The appointment of inspector {inspector.id} ended on {inspector.ended_on}")
    _not_future(body.held_on, uow.clock.today(), "held_on")
    record = TrainingRecord(
        inspector_id=inspector.id, **body.model_dump(), recorded_by=who.sub, recorded_at=uow.clock.now()
    )
    await repository.add(uow.session, record)
    uow.record(
        "inspector.training_recorded",
        "inspector",
        inspector.id,
        inspector.division_code,
        kind=body.kind.value,
        class_hours=body.class_hours,
    )
    uow.emit(
        InspectorTrainingRecorded(
            division=inspector.division_code,
            inspector_id=str(inspector.id),
            training_id=str(record.id),
            kind=body.kind.value,
            held_on=record.held_on,
            class_hours=record.class_hours,
        )
    )
    return record


async def _end_assignments(
    uow: UnitOfWork, inspector: Inspector, reason: str, *, school_id: UUID | None = None
) -> None:
    """Cut short the inspector's assignments from today: they end yesterday, or never start."""
    today = uow.clock.today()
    for assignment in await repository.assignments_from(
        uow.session, inspector.id, today, school_id=school_id
    ):
        if assignment.starts_on >= today:
            await repository.delete(uow.session, assignment)
            action = "assignment.cancelled"
        else:
            assignment.ends_on, assignment.end_reason = today - ONE_DAY, reason
            assignment.updated_at = uow.clock.now()
            action = "assignment.ended"
        uow.record(action, "assignment", assignment.id, assignment.division_code, reason=reason)
    await uow.session.flush()


async def record_conflict(
    uow: UnitOfWork, who: Principal, inspector_id: UUID, body: ConflictCreate
) -> ConflictOfInterest:
    """Record a conflict of interest; the inspector recuses from the school, whose assignment ends."""
    inspector = await _inspector(uow, who, inspector_id, for_update=True)
    school = await schools.get(uow, who, body.school_id)
    conflict = ConflictOfInterest(
        inspector_id=inspector.id,
        school_id=school.id,
        kind=body.kind,
        description=body.description,
        recorded_by=who.sub,
        recorded_at=uow.clock.now(),
    )
    await repository.add(uow.session, conflict)
    uow.record(
        "inspector.conflict_recorded",
        "inspector",
        inspector.id,
        inspector.division_code,
        school_id=str(school.id),
        kind=body.kind.value,
    )
    uow.emit(
        InspectorConflictRecorded(
            division=school.division_code,
            inspector_id=str(inspector.id),
            conflict_id=str(conflict.id),
            school_id=str(school.id),
            unit_id=school.school_code,
            kind=body.kind.value,
        )
    )
    await _end_assignments(uow, inspector, "recusal", school_id=school.id)
    return conflict


async def record_review(
    uow: UnitOfWork, who: Principal, inspector_id: UUID, body: ReviewCreate
) -> PerformanceReview:
    """Record the yearly review; an unqualified one ends the appointment and its assignments."""
    inspector = await _inspector(uow, who, inspector_id, for_update=True)
    _require_serving(inspector)
    today = uow.clock.today()
    _not_future(body.reviewed_on, today, "reviewed_on")
    assert inspector.appointed_on is not None  # every appointed inspector has its announcement date
    if not inspector.appointed_on.year <= body.year <= body.reviewed_on.year:
        raise field_error(
            InvalidDate,
            "year",
            f"A review of {body.year} must be of a year served, and not dated before that year ends",
        )
    if await repository.review_exists(uow.session, inspector.id, body.year):
        raise ReviewExists(f"Inspector {inspector.id} already has a review for {body.year}")
    review = PerformanceReview(
        inspector_id=inspector.id, **body.model_dump(), recorded_by=who.sub, recorded_at=uow.clock.now()
    )
    await repository.add(uow.session, review)
    uow.record(
        "inspector.reviewed",
        "inspector",
        inspector.id,
        inspector.division_code,
        year=body.year,
        rating=body.rating.value,
    )
    if body.rating == Rating.UNQUALIFIED:
        inspector.status, inspector.ended_on, inspector.end_reason = (
            InspectorStatus.ENDED,
            today,
            "unqualified",
        )
        inspector.updated_at = uow.clock.now()
        uow.record(
            "inspector.appointment_ended", "inspector", inspector.id, inspector.division_code, year=body.year
        )
        uow.emit(
            InspectorAppointmentEnded(
                division=inspector.division_code,
                inspector_id=str(inspector.id),
                ended_on=today,
                reason="unqualified",
            )
        )
        await _end_assignments(uow, inspector, "appointment_ended")
    return review


async def ledger_page(
    uow: UnitOfWork,
    who: Principal,
    inspector_id: UUID,
    model: type[repository.Ledger],
    *,
    after: UUID | None,
    limit: int,
) -> list[repository.Ledger]:
    inspector = await _inspector(uow, who, inspector_id)
    return await repository.ledger_page(uow.session, model, inspector.id, after=after, limit=limit + 1)


# --- eligibility and assignments ----------------------------------------------------------------------


async def ensure_eligible(uow: UnitOfWork, inspector: Inspector, on: date) -> None:
    """May this inspector serve at all on that day? Only an announced appointment that has not ended (a
    part-time inspector within a term), with pre-service training on record: the rules
    ``repository.draw_pool`` applies in one query."""
    _require_serving(inspector)
    if inspector.employment == Employment.PART_TIME and not await repository.term_covers(
        uow.session, inspector.id, on
    ):
        raise InspectorNotAppointed(f"No term of inspector {inspector.id} covers {on}")
    if not await repository.has_pre_service_training(uow.session, inspector.id):
        raise InspectorUntrained(f"Record inspector {inspector.id}'s pre-service training (岗前培训) first")


async def ensure_can_serve(uow: UnitOfWork, inspector: Inspector, school: School, on: date) -> None:
    """May this inspector act at this school on that day (an assignment, a visit)? Eligible, and with no
    conflict of interest with the school."""
    await ensure_eligible(uow, inspector, on)
    if await repository.recused_pairs(uow.session, [inspector.id], [school.id]):
        raise InspectorRecused(f"Inspector {inspector.id} has a conflict of interest with school {school.id}")


async def _check_ratio(
    uow: UnitOfWork, inspector: Inspector, school: School, start: date, end: date | None
) -> None:
    held = await repository.held_schools(uow.session, inspector.id, start, end)
    threshold = (await repository.policy_for(uow.session, school.division_code)).dedicated_enrolment_threshold
    if school.enrolment > threshold and held:
        raise DedicatedInspectorRequired(
            f"{school.name} has {school.enrolment} pupils (above {threshold}): its responsible inspector may "
            f"hold no other school, and this one holds {len(held)}"
        )
    dedicated = next((h for h in held if h.enrolment > h.dedicated_threshold), None)
    if dedicated is not None:
        raise DedicatedInspectorRequired(
            f"The inspector is dedicated to {dedicated.name} ({dedicated.enrolment} pupils) and may hold no "
            "other school"
        )
    limit = (await repository.policy_for(uow.session, inspector.division_code)).max_schools_per_inspector
    if len(held) >= limit:
        raise InspectorOverLoad(f"The inspector already covers {len(held)} schools; the ratio is 1:{limit}")


async def assign(uow: UnitOfWork, who: Principal, body: AssignmentCreate) -> Assignment:
    """Make an inspector a school's responsible inspector (责任督学) from ``starts_on``."""
    start = body.starts_on or uow.clock.today()
    if body.ends_on is not None and body.ends_on < start:
        raise field_error(InvalidDate, "ends_on", f"{body.ends_on} is before the start {start}")
    # Locks the school, then the inspector: concurrent assignments of either wait their turn.
    school = await schools.get(uow, who, body.school_id, for_update=True)
    inspector = await _inspector(uow, who, body.inspector_id, for_update=True)
    if not school.division_code.startswith(jurisdiction_prefix(inspector.division_code)):
        raise SchoolOutsideInspectorDivision(
            f"School {school.id} is in {school.division_code}; the inspector serves {inspector.division_code}"
        )
    await ensure_can_serve(uow, inspector, school, start)
    if await repository.school_is_covered(uow.session, school.id, start, body.ends_on):
        raise SchoolAlreadyCovered(f"School {school.id} has a responsible inspector during that period")
    await _check_ratio(uow, inspector, school, start, body.ends_on)
    now = uow.clock.now()
    assignment = Assignment(
        inspector_id=inspector.id,
        school_id=school.id,
        division_code=school.division_code,
        starts_on=start,
        ends_on=body.ends_on,
        recorded_by=who.sub,
        created_at=now,
        updated_at=now,
    )
    await repository.add(uow.session, assignment)
    uow.record(
        "assignment.assigned",
        "assignment",
        assignment.id,
        assignment.division_code,
        inspector_id=str(inspector.id),
        school_id=str(school.id),
    )
    uow.emit(
        ResponsibleInspectorAssigned(
            division=school.division_code,
            assignment_id=str(assignment.id),
            school_id=str(school.id),
            inspector_id=str(inspector.id),
            starts_on=assignment.starts_on,
            ends_on=assignment.ends_on,
        )
    )
    return assignment


async def end_assignment(
    uow: UnitOfWork, who: Principal, assignment_id: UUID, body: AssignmentEnd
) -> Assignment:
    missing = AssignmentNotFound(f"Assignment {assignment_id} does not exist")
    assignment = await require_visible(uow.session, who, Assignment, assignment_id, missing, for_update=True)
    today = uow.clock.today()
    ends_on = body.ends_on or today
    if assignment.ends_on is not None and assignment.ends_on < today:
        raise AssignmentEnded(f"Assignment {assignment.id} ended on {assignment.ends_on}")
    if ends_on < assignment.starts_on:
        raise field_error(
            InvalidDate, "ends_on", f"{ends_on} is before the assignment's start {assignment.starts_on}"
        )
    if assignment.ends_on is not None and ends_on > assignment.ends_on:
        raise field_error(InvalidDate, "ends_on", f"The assignment already ends on {assignment.ends_on}")
    assignment.ends_on, assignment.end_reason = ends_on, "ended"
    assignment.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record(
        "assignment.ended", "assignment", assignment.id, assignment.division_code, ends_on=str(ends_on)
    )
    return assignment


async def assignment_page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    school_id: UUID | None,
    inspector_id: UUID | None,
    current: bool,
) -> list[Assignment]:
    return await repository.assignment_page(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        school_id=school_id,
        inspector_id=inspector_id,
        current_day=uow.clock.today() if current else None,
    )
