"""Issuing documents with gapless numbers, and what people later do with them. No SQL, no commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast
from uuid import UUID

from accountability.documents import repository, texts
from accountability.documents.models import (
    AccountabilityDecision,
    Circular,
    DecisionStatus,
    Document,
    DocumentKind,
    Interview,
    IssuingOffice,
    UrgingOrder,
)
from accountability.documents.schemas import (
    AbbreviationUpdate,
    DecisionCreate,
    InterviewRecordCreate,
    IssuingOfficeRead,
    PublicDocumentRead,
    PublicKind,
)
from accountability.notifications import service as notifications
from dudao.auth.principal import Principal
from dudao.clock import BUSINESS_TZ
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.uow import UnitOfWork

# The character of each kind in a document number: 桂教督[办]〔2026〕12号.
KIND_CHARACTERS: dict[DocumentKind, str] = {
    DocumentKind.URGING_ORDER: "办",
    DocumentKind.INTERVIEW: "谈",
    DocumentKind.CIRCULAR: "通",
    DocumentKind.ACCOUNTABILITY_DECISION: "责",
}
# Offices whose conventional abbreviation is not their name's first character.
CONVENTIONAL_ABBREVIATIONS = {"450000": "桂教督"}
INTERVIEW_NOTICE_DAYS = 7
INTERVIEW_HOUR = time(9, 0)


class DocumentNotFound(NotFound):
    type = "document-not-found"
    title = "No such document"


class WrongDocumentKind(Conflict):
    type = "wrong-document-kind"
    title = "This action does not apply to this kind of document"


class AlreadyDone(Conflict):
    type = "already-done"
    title = "This has already been done to the document"


class NotDecided(Conflict):
    type = "not-decided"
    title = "The accountability decision has not been taken yet"


class DivisionOutsideJurisdiction(Forbidden):
    type = "division-outside-jurisdiction"
    title = "You may not act outside your jurisdiction"


@dataclass(frozen=True)
class Addressee:
    """Whom a document concerns, and why: a snapshot, since the unit may later change."""

    unit_id: str
    unit_kind: str
    unit_name: str
    competent_department: str | None
    division_code: str
    case_id: UUID | None
    grounds: str  # e.g. 你单位……未在2026年5月1日前完成整改
    # The id the competent department reads its notifications under, if not its name (an office's).
    competent_department_id: str | None = None


@dataclass(frozen=True)
class InterviewPlan:
    """When and where an interview is held; by default a week ahead at 09:00, at the issuing office."""

    scheduled_at: datetime | None = None
    place: str | None = None


async def issue(
    uow: UnitOfWork,
    kind: DocumentKind,
    to: Addressee,
    office_division: str,
    new_deadline: date | None,
    plan: InterviewPlan,
) -> Document:
    """Draw up and issue the document of a step; an accountability decision is only opened, pending."""
    session = uow.session
    office_locality = await repository.division_name(session, office_division)
    office = texts.office_name(office_locality)
    locality = await repository.division_name(session, to.division_code)
    now = uow.clock.now()
    document = Document(
        kind=kind,
        office_division=office_division,
        case_id=to.case_id,
        unit_id=to.unit_id,
        unit_kind=to.unit_kind,
        unit_name=to.unit_name,
        competent_department=to.competent_department,
        division_code=to.division_code,
        grounds=to.grounds,
        created_at=now,
        created_by=uow.actor.id,
    )
    if kind is DocumentKind.URGING_ORDER:
        document.urging_order = UrgingOrder(
            addressee=to.unit_name, copied_to=to.competent_department, new_deadline=new_deadline
        )
        document.title, document.body = texts.urging_order(to, office, new_deadline)
    elif kind is DocumentKind.INTERVIEW:
        scheduled_at = plan.scheduled_at or datetime.combine(
            uow.clock.today() + timedelta(days=INTERVIEW_NOTICE_DAYS), INTERVIEW_HOUR, BUSINESS_TZ
        )
        place = plan.place or office
        # Item (十二): with the discipline inspection organ and the organisation department of the same level.
        participants = [
            office,
            texts.discipline_organ(office_locality),
            texts.organisation_department(office_locality),
            texts.responsible_person(to.unit_name),
        ]
        document.interview = Interview(
            scheduled_at=scheduled_at,
            place=place,
            participants=participants,
            responsible_person=texts.responsible_person(to.unit_name),
            filed_with=texts.local_authorities(locality, to.competent_department),
        )
        document.title, document.body = texts.interview(
            to, office, scheduled_at, place, participants, new_deadline
        )
    elif kind is DocumentKind.CIRCULAR:
        recipients = texts.local_authorities(locality, to.competent_department)
        document.circular = Circular(recipients=recipients, recommendation=texts.RECOMMENDATION)
        document.title, document.body = texts.circular(to, office, recipients, new_deadline)
    else:
        document.decision = AccountabilityDecision(status=DecisionStatus.PENDING, persons=[])
        document.title, document.body = texts.pending_decision(to, office)
    if kind is not DocumentKind.ACCOUNTABILITY_DECISION:
        await _number(uow, document)
    await repository.add(session, document)
    uow.record("document.issued", "document", document.id, document.division_code, number=document.number)
    return document


async def _number(uow: UnitOfWork, document: Document) -> None:
    """Give the document its number: the next serial of its office, kind and business year."""
    year = uow.clock.today().year
    serial = await repository.next_serial(uow.session, document.office_division, document.kind, year)
    office = await abbreviation(uow, document.office_division)
    document.year, document.serial = year, serial
    document.number = f"{office.abbreviation}{KIND_CHARACTERS[document.kind]}〔{year}〕{serial}号"
    document.issued_at = uow.clock.now()


async def decide(uow: UnitOfWork, who: Principal, document_id: UUID, body: DecisionCreate) -> Document:
    """A person takes the pending accountability decision; its number is given now."""
    document = await _get(uow, who, document_id, for_update=True)
    decision = document.decision
    if decision is None:
        raise WrongDocumentKind(f"Document {document_id} is a {document.kind.value}, not a decision")
    if decision.status is DecisionStatus.DECIDED:
        raise AlreadyDone(f"The decision {document.number} was taken on {decision.decided_at}")
    persons = [p.model_dump() for p in body.persons]
    decision.status = DecisionStatus.DECIDED
    decision.target, decision.form, decision.persons = body.target, body.form, persons
    decision.reasons = body.reasons
    decision.decided_at, decision.decided_by = uow.clock.now(), who.sub
    decision.published = body.publish
    office = texts.office_name(await repository.division_name(uow.session, document.office_division))
    document.title, document.body = texts.decision(
        document, office, body.target, body.form, persons, body.reasons
    )
    await _number(uow, document)
    await uow.session.flush()
    uow.record(
        "document.decided",
        "document",
        document.id,
        document.division_code,
        number=document.number,
        form=body.form.value,
        published=body.publish,
    )
    await notifications.notify(
        uow, document, document.title, document.body, case_id=document.case_id, step_id=None
    )
    return document


async def record_interview(
    uow: UnitOfWork, who: Principal, document_id: UUID, body: InterviewRecordCreate
) -> Document:
    """The office records what was said at the interview and whom the record is filed with."""
    document = await _get(uow, who, document_id, for_update=True)
    interview = document.interview
    if interview is None:
        raise WrongDocumentKind(f"Document {document_id} is a {document.kind.value}, not an interview")
    if interview.record is not None:
        raise AlreadyDone(f"The record of {document.number} was written on {interview.recorded_at}")
    interview.record = body.record
    interview.held_at = body.held_at or interview.scheduled_at
    interview.filed_with = body.filed_with or interview.filed_with
    interview.recorded_at, interview.recorded_by = uow.clock.now(), who.sub
    await uow.session.flush()
    uow.record("interview.recorded", "document", document.id, document.division_code, number=document.number)
    return document


async def publish_circular(uow: UnitOfWork, who: Principal, document_id: UUID) -> Document:
    """Publish a circular, or a decided accountability decision that was not published when taken."""
    document = await _get(uow, who, document_id, for_update=True)
    if document.decision is not None:
        return await _publish_decision(uow, document)
    circular = document.circular
    if circular is None:
        raise WrongDocumentKind(
            f"Document {document_id} is a {document.kind.value}, not a circular or a decision"
        )
    if circular.published:
        raise AlreadyDone(f"The circular {document.number} was published on {circular.published_at}")
    circular.published, circular.published_at, circular.published_by = True, uow.clock.now(), who.sub
    await uow.session.flush()
    uow.record("circular.published", "document", document.id, document.division_code, number=document.number)
    return document


async def _publish_decision(uow: UnitOfWork, document: Document) -> Document:
    decision = document.decision
    assert decision is not None
    if decision.status is not DecisionStatus.DECIDED:
        raise NotDecided(f"The decision {document.id} is pending; decide it first")
    if decision.published:
        raise AlreadyDone(f"The decision {document.number} is already public")
    decision.published = True
    await uow.session.flush()
    uow.record("decision.published", "document", document.id, document.division_code, number=document.number)
    return document


async def _get(uow: UnitOfWork, who: Principal, document_id: UUID, *, for_update: bool = False) -> Document:
    document = await repository.get_visible(uow.session, who, document_id, for_update=for_update)
    if document is None:
        raise DocumentNotFound(f"Document {document_id} does not exist")
    return document


async def get(uow: UnitOfWork, who: Principal, document_id: UUID) -> Document:
    return await _get(uow, who, document_id)


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    kind: DocumentKind | None,
    case_id: UUID | None,
    unit_id: str | None,
) -> list[Document]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, kind=kind, case_id=case_id, unit_id=unit_id
    )


def _public_read(document: Document, division_names: dict[str, str]) -> PublicDocumentRead:
    """Only what was made public: never the persons named, notification or interview data, or authors."""
    office = texts.office_name(division_names[document.office_division])
    circular, decision = document.circular, document.decision
    if circular is not None and circular.published_at is not None:
        published_at, text, recommendation = circular.published_at, document.body, circular.recommendation
        form, grounds = None, None
    elif decision is not None and decision.decided_at is not None:
        published_at, text, recommendation = decision.decided_at, None, None
        form, grounds = decision.form, f"{document.grounds}。{decision.reasons}"
    else:  # the query only returns published circulars and decided decisions
        raise DocumentNotFound(f"Document {document.id} is not public")
    assert document.number is not None
    return PublicDocumentRead(
        id=document.id,
        number=document.number,
        kind=cast(PublicKind, document.kind.value),
        title=document.title,
        office_division=document.office_division,
        office_name=office,
        unit_name=document.unit_name,
        division_code=document.division_code,
        published_on=published_at.astimezone(BUSINESS_TZ).date(),
        text=text,
        recommendation=recommendation,
        form=form,
        grounds=grounds,
    )


async def public_page(
    uow: UnitOfWork, *, after: UUID | None, limit: int, kind: DocumentKind | None, within: str | None
) -> list[PublicDocumentRead]:
    """Up to ``limit + 1`` public documents, newest first (the extra one tells there is a next page)."""
    rows = await repository.public_page(uow.session, after=after, limit=limit + 1, kind=kind, within=within)
    names = await repository.division_names(uow.session, {d.office_division for d in rows})
    return [_public_read(d, names) for d in rows]


async def public_get(uow: UnitOfWork, document_id: UUID) -> PublicDocumentRead:
    """A public document; 404 for one that is unknown or not public, alike."""
    document = await repository.get_public(uow.session, document_id)
    if document is None:
        raise DocumentNotFound(f"Document {document_id} does not exist or is not public")
    names = await repository.division_names(uow.session, {document.office_division})
    return _public_read(document, names)


async def abbreviation(uow: UnitOfWork, division_code: str) -> IssuingOfficeRead:
    """The office's own abbreviation, or by default 桂教督 for the region, else 〈first character〉教督."""
    own = await repository.abbreviation(uow.session, division_code)
    if own is not None:
        return IssuingOfficeRead(division_code=division_code, abbreviation=own.abbreviation, default=False)
    default = CONVENTIONAL_ABBREVIATIONS.get(division_code)
    if default is None:
        default = (await repository.division_name(uow.session, division_code))[0] + "教督"
    return IssuingOfficeRead(division_code=division_code, abbreviation=default, default=True)


async def office_name(uow: UnitOfWork, division_code: str) -> str:
    """The full name of a division's supervision office, e.g. 兴宁区人民政府教育督导委员会办公室."""
    return texts.office_name(await repository.division_name(uow.session, division_code))


async def superior(uow: UnitOfWork, division_code: str) -> str | None:
    """The division above, whose office supervises this one's (a county's city); None for the top."""
    return await repository.parent_division(uow.session, division_code)


async def issuing_office(uow: UnitOfWork, divisions: DivisionTree, division_code: str) -> IssuingOfficeRead:
    divisions.require(division_code)
    return await abbreviation(uow, division_code)


async def set_abbreviation(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, division_code: str, body: AbbreviationUpdate
) -> IssuingOfficeRead:
    divisions.require(division_code)
    if not who.can_see(division_code):
        raise DivisionOutsideJurisdiction(f"{division_code} is outside your jurisdiction")
    await repository.save_abbreviation(
        uow.session,
        IssuingOffice(
            division_code=division_code,
            abbreviation=body.abbreviation,
            updated_at=uow.clock.now(),
            updated_by=who.sub,
        ),
    )
    uow.record(
        "issuing_office.abbreviation_set",
        "issuing_office",
        division_code,
        division_code,
        abbreviation=body.abbreviation,
    )
    return IssuingOfficeRead(division_code=division_code, abbreviation=body.abbreviation, default=False)
