"""Issuing documents with gapless numbers, and what people later do with them. No SQL, no commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table

from accountability.divisions import name as division_name
from accountability.documents import repository, texts
from accountability.documents.models import (
    CIRCULARS,
    DECISIONS,
    DOCUMENTS,
    INTERVIEWS,
    URGING_ORDERS,
    DecisionStatus,
    Document,
    DocumentKind,
)
from accountability.documents.schemas import (
    DecisionCreate,
    InterviewRecordCreate,
    IssuingOfficeRead,
    PublicDocumentRead,
    PublicKind,
)
from accountability.notifications import service as notifications
from accountability.notifications.service import Notice
from dudao import numbering
from dudao.auth.principal import Principal
from dudao.clock import BUSINESS_TZ
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, NotFound
from dudao.ids import uuid7
from dudao.uow import UnitOfWork

# The table of what only one kind of document has.
DETAIL_TABLES: dict[DocumentKind, Table] = {
    DocumentKind.URGING_ORDER: URGING_ORDERS,
    DocumentKind.INTERVIEW: INTERVIEWS,
    DocumentKind.CIRCULAR: CIRCULARS,
    DocumentKind.ACCOUNTABILITY_DECISION: DECISIONS,
}
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
    # The person answerable by name and post, e.g. 张三（副区长）, where the fact names one.
    responsible_person: str | None = None


@dataclass(frozen=True)
class InterviewPlan:
    """When and where an interview is held; by default a week ahead at 09:00, at the issuing office."""

    scheduled_at: datetime | None = None
    place: str | None = None


@dataclass(frozen=True)
class Issue:
    """A document a step issues: of ``kind``, by the office of ``office_division``, to ``to``."""

    kind: DocumentKind
    to: Addressee
    office_division: str
    new_deadline: date | None
    plan: InterviewPlan
    particulars: Sequence[str] = ()  # a round's results: one line per unit


@dataclass(frozen=True)
class Issued:
    id: UUID
    number: str | None
    title: str
    body: str


async def issue_all(uow: UnitOfWork, divisions: DivisionTree, issues: Sequence[Issue]) -> list[Issued]:
    """Draw up and issue the documents of a batch of steps, in order; an accountability decision is only
    opened, pending. The numbers of all their series are reserved in one statement, and each table is one
    write: the cost does not grow with the batch in statements, only in rows."""
    numbered = [i for i in issues if i.kind is not DocumentKind.ACCOUNTABILITY_DECISION]
    numbers = iter(await _numbers(uow, divisions, [(i.office_division, i.kind) for i in numbered]))
    now, today = uow.clock.now(), uow.clock.today()
    documents: list[dict[str, Any]] = []
    details: dict[DocumentKind, list[dict[str, Any]]] = {kind: [] for kind in DocumentKind}
    issued: list[Issued] = []
    for i in issues:
        to = i.to
        office_locality = division_name(divisions, i.office_division)
        office = texts.office_name(office_locality)
        locality = division_name(divisions, to.division_code)
        document_id = uuid7()
        detail: dict[str, Any] = {"document_id": document_id}
        if i.kind is DocumentKind.URGING_ORDER:
            detail |= {
                "addressee": to.unit_name,
                "copied_to": to.competent_department,
                "new_deadline": i.new_deadline,
            }
            title, body = texts.urging_order(to, office, i.new_deadline)
        elif i.kind is DocumentKind.INTERVIEW:
            scheduled_at = i.plan.scheduled_at or datetime.combine(
                today + timedelta(days=INTERVIEW_NOTICE_DAYS), INTERVIEW_HOUR, BUSINESS_TZ
            )
            place = i.plan.place or office
            responsible = to.responsible_person or texts.responsible_person(to.unit_name)
            # Item (十二): with the discipline inspection organ and the organisation department of its level.
            participants = [
                office,
                texts.discipline_organ(office_locality),
                texts.organisation_department(office_locality),
                responsible,
            ]
            detail |= {
                "scheduled_at": scheduled_at,
                "place": place,
                "participants": participants,
                "responsible_person": responsible,
                "filed_with": texts.local_authorities(locality, to.competent_department),
            }
            title, body = texts.interview(to, office, scheduled_at, place, participants, i.new_deadline)
        elif i.kind is DocumentKind.CIRCULAR:
            recipients = texts.local_authorities(locality, to.competent_department)
            detail |= {"recipients": recipients, "recommendation": texts.RECOMMENDATION}
            title, body = texts.circular(to, office, recipients, i.new_deadline)
        elif i.kind is DocumentKind.COMMENDATION:
            title, body = texts.commendation(to, office)
        elif i.kind is DocumentKind.EVALUATION_RESULTS:
            title, body = texts.evaluation_results(to, office, i.particulars)
        else:
            detail |= {"status": DecisionStatus.PENDING, "persons": []}
            title, body = texts.pending_decision(to, office)
        year, serial, number = (
            next(numbers) if i.kind is not DocumentKind.ACCOUNTABILITY_DECISION else (None, None, None)
        )
        documents.append(
            {
                "id": document_id,
                "kind": i.kind,
                "number": number,
                "year": year,
                "serial": serial,
                "office_division": i.office_division,
                "case_id": to.case_id,
                "unit_id": to.unit_id,
                "unit_kind": to.unit_kind,
                "unit_name": to.unit_name,
                "competent_department": to.competent_department,
                "division_code": to.division_code,
                "grounds": to.grounds,
                "title": title,
                "body": body,
                "issued_at": now if number else None,
                "created_at": now,
                "created_by": uow.actor.id,
            }
        )
        details[i.kind].append(detail)
        issued.append(Issued(document_id, number, title, body))
        uow.record("document.issued", "document", document_id, to.division_code, number=number)
    uow.insert(DOCUMENTS, documents)
    for kind, table in DETAIL_TABLES.items():
        uow.insert(table, details[kind])
    return issued


async def _numbers(
    uow: UnitOfWork, divisions: DivisionTree, series: Sequence[tuple[str, DocumentKind]]
) -> list[tuple[int, int, str]]:
    """The year, serial and number of each of ``series`` (an office and a kind), in order: the next
    serials of each office, kind and business year, reserved in one statement (the kit's numbering)."""
    year = uow.clock.today().year
    wanted = [numbering.Wanted(office, kind.value, year) for office, kind in series]
    return [(n.year, n.serial, n.text) for [n] in await numbering.reserve(uow, divisions, wanted)]


async def decide(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, document_id: UUID, body: DecisionCreate
) -> Document:
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
    office = office_name(divisions, document.office_division)
    document.title, document.body = texts.decision(
        document, office, body.target, body.form, persons, body.reasons
    )
    [(document.year, document.serial, document.number)] = await _numbers(
        uow, divisions, [(document.office_division, document.kind)]
    )
    document.issued_at = uow.clock.now()
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
    notifications.notify_all(
        uow, [Notice(document, document.title, document.body, case_id=document.case_id, step_id=None)]
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


def _public_read(document: Document, divisions: DivisionTree) -> PublicDocumentRead:
    """Only what was made public: never the persons named, notification or interview data, or authors."""
    office = office_name(divisions, document.office_division)
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
    uow: UnitOfWork,
    divisions: DivisionTree,
    *,
    after: UUID | None,
    limit: int,
    kind: DocumentKind | None,
    within: str | None,
) -> list[PublicDocumentRead]:
    """Up to ``limit + 1`` public documents, newest first (the extra one tells there is a next page)."""
    rows = await repository.public_page(uow.session, after=after, limit=limit + 1, kind=kind, within=within)
    return [_public_read(d, divisions) for d in rows]


async def public_get(uow: UnitOfWork, divisions: DivisionTree, document_id: UUID) -> PublicDocumentRead:
    """A public document; 404 for one that is unknown or not public, alike."""
    document = await repository.get_public(uow.session, document_id)
    if document is None:
        raise DocumentNotFound(f"Document {document_id} does not exist or is not public")
    return _public_read(document, divisions)


def office_name(divisions: DivisionTree, division_code: str) -> str:
    """The full name of a division's supervision office, e.g. 兴宁区人民政府教育督导委员会办公室."""
    return texts.office_name(division_name(divisions, division_code))


def superior(divisions: DivisionTree, division_code: str) -> str | None:
    """The division above, whose office supervises this one's (a county's city); None for the top."""
    division = divisions.get(division_code)
    return division.parent_code if division else None


async def issuing_office(uow: UnitOfWork, divisions: DivisionTree, division_code: str) -> IssuingOfficeRead:
    """The abbreviation an office's numbers start with: as governance recorded it, else by default 桂教督
    for the region and 〈first character〉教督 elsewhere."""
    office = await numbering.issuing_office(uow, divisions, division_code)
    return IssuingOfficeRead(
        division_code=office.division_code,
        abbreviation=office.abbreviation,
        name=office.name,
        default=office.default,
    )
