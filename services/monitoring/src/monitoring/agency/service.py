"""The rules of agencies and commissions (二五). No SQL, no commit.

An office registers agencies and commissions them by government purchase: indicator systems, divisions
(and, if listed, units within them), a period and deliverables. It issues the agency API keys bound to
the commission: the kit's key carries the service (monitoring), the divisions, the operations and an
expiry no later than the period's end; the binding here carries the commission, so that every route an
agency may call asks :func:`require_commission` and reaches nothing outside it, even in the same county.

The agency delivers reports (text and evidence) and, for item 3.9, quality monitoring results per
county; the office accepts or returns each deliverable with comments, and accepted results become the
county's approved ``quality.3_9`` value. Every agency write names the key that made it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from dudao.apikeys import service as apikeys
from dudao.apikeys.schemas import ApiKeyCreate
from dudao.auth.principal import Principal, Role
from dudao.clock import BUSINESS_TZ
from dudao.common.models import ApiKey
from dudao.contracts.monitoring import AgencyDeliverableReviewed, AgencyDeliverableSubmitted
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.encryption import FieldCipher, mask_email, mask_name, mask_phone
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from monitoring.agency import repository
from monitoring.agency.models import (
    Agency,
    AgencyReport,
    Commission,
    CommissionDeliverable,
    CommissionKey,
    CommissionStatus,
    DeliverableKind,
    DeliverableReview,
    DeliverableStatus,
    QualityResult,
    ReviewDecision,
)
from monitoring.agency.schemas import (
    AgencyCreate,
    AgencyRead,
    AgencyUpdate,
    CommissionCreate,
    CommissionKeyCreate,
    CommissionUpdate,
    Contact,
    ContactRead,
    CountyQuality,
    QualityResults,
    ReportCreate,
    ReviewCreate,
)
from monitoring.collection import repository as values
from monitoring.indicator import service as indicators

CONTACTS_CONTEXT = "monitoring.agency.contacts"
QUALITY_ELEMENT = "quality.3_9"
# Item 3.9 as RULES.md §1 states it, when the system carries no thresholds of its own.
DEFAULT_LEVEL_MIN = Decimal(3)
DEFAULT_DIFFERENCE_MAX = Decimal("0.15")


class AgencyNotFound(NotFound):
    type = "agency-not-found"
    title = "No such agency"


class AgencyRegistered(Conflict):
    type = "agency-registered"
    title = "Your registry already has an agency with this credit code"


class CommissionNotFound(NotFound):
    type = "commission-not-found"
    title = "No such commission"


class DeliverableNotFound(NotFound):
    type = "deliverable-not-found"
    title = "No such deliverable in the commission"


class InvalidCommission(InvalidInput):
    type = "invalid-commission"
    title = "The commission is not consistent"


class InvalidReport(InvalidInput):
    type = "invalid-agency-report"
    title = "The report is not consistent with its deliverable"


class InvalidReview(InvalidInput):
    type = "invalid-deliverable-review"
    title = "The review is incomplete"


class CommissionClosed(Conflict):
    type = "commission-closed"
    title = "The commission is no longer in force"


class DeliverableNotOpen(Conflict):
    type = "deliverable-not-open"
    title = "The deliverable does not await this step"


class AgencyKeyRequired(Forbidden):
    type = "agency-key-required"
    title = "This needs an agency's API key issued for its commission"


class KeyNotBound(Forbidden):
    type = "agency-key-not-bound"
    title = "The API key is not bound to a commission; have the office issue one for the commission"


class CommissionNotInForce(Forbidden):
    type = "commission-not-in-force"
    title = "The key's commission is not in force today"


class OutsideCommission(NotFound):
    type = "outside-commission"
    title = "Nothing of that lies within your commission"


# --- the commission of an agency's key -----------------------------------------------------------------


def covers(commission: Commission, *, division_code: str | None = None, unit_id: str | None = None) -> bool:
    """Whether a division (under one of the commission's divisions) and a unit (listed, when the
    commission lists units) lie within the commission."""
    if division_code is not None and not any(
        division_code.startswith(jurisdiction_prefix(d)) for d in commission.divisions
    ):
        return False
    return unit_id is None or not commission.unit_ids or unit_id in commission.unit_ids


async def require_commission(
    uow: UnitOfWork,
    who: Principal,
    *,
    system_id: UUID | None = None,
    division_code: str | None = None,
    unit_ids: Collection[str] | None = None,
) -> Commission:
    """The commission the caller's agency key is bound to, in force today and covering the indicator
    system, division and units named: 403 for a caller that is not a bound agency key or a commission not
    in force, 404 for anything outside the commission (as another jurisdiction's records are)."""
    if Role.AGENCY not in who.roles or who.kind != "api_key" or who.key_id is None:
        raise AgencyKeyRequired("Agencies act through the API key the office issued for their commission")
    commission = await repository.bound_commission(uow.session, UUID(who.key_id))
    if commission is None or str(commission.agency_id) != who.org:
        raise KeyNotBound(f"Key {who.key_id} was not issued for a commission of agency {who.org}")
    today = uow.clock.today()
    if (
        commission.status != CommissionStatus.ACTIVE
        or not commission.starts_on <= today <= commission.ends_on
    ):
        raise CommissionNotInForce(
            f"The commission is {commission.status.value}, "
            f"from {commission.starts_on} to {commission.ends_on}"
        )
    if system_id is not None and system_id not in commission.system_ids:
        raise OutsideCommission(f"Indicator system {system_id} is not assessed by your commission")
    if division_code is not None and not covers(commission, division_code=division_code):
        raise OutsideCommission(f"{division_code} is not within your commission")
    outside = sorted(u for u in set(unit_ids or ()) if not covers(commission, unit_id=u))
    if outside:
        raise OutsideCommission(
            f"{len(outside)} unit(s) are not within your commission: {', '.join(outside[:20])}"
        )
    return commission


async def _bound(uow: UnitOfWork, who: Principal) -> UUID | None:
    """For an agency, the id of its key's commission (checked in force); None for everyone else."""
    if not repository.acts_as_agency(who):
        return None
    return (await require_commission(uow, who)).id


# --- agencies ---------------------------------------------------------------------------------------


def _seal(cipher: FieldCipher, contacts: Sequence[Contact]) -> str:
    plain = json.dumps([c.model_dump(exclude_none=True) for c in contacts], ensure_ascii=False)
    return cipher.encrypt(plain, context=CONTACTS_CONTEXT)


def _sees_contacts(who: Principal, agency: Agency) -> bool:
    return Role.SUPERVISION_OFFICE in who.roles or (Role.AGENCY in who.roles and who.org == str(agency.id))


def _audit_reads(uow: UnitOfWork, who: Principal, agencies: Sequence[Agency], via: str) -> None:
    """An audit entry per agency whose contacts ``who`` reads in full."""
    for agency in agencies:
        if _sees_contacts(who, agency):
            uow.record("agency.contacts_read", "agency", agency.id, agency.division_code, via=via)


def shown(cipher: FieldCipher, who: Principal, agency: Agency) -> AgencyRead:
    """The agency as ``who`` may see it: contacts in full for offices and the agency itself, masked for
    everyone else."""
    in_full = _sees_contacts(who, agency)
    sealed = json.loads(cipher.decrypt(agency.contacts_sealed, context=CONTACTS_CONTEXT))
    contacts = [ContactRead.model_validate(c) for c in sealed]
    if not in_full:
        contacts = [
            ContactRead(
                name=mask_name(c.name),
                phone=None if c.phone is None else mask_phone(c.phone),
                email=None if c.email is None else mask_email(c.email),
            )
            for c in contacts
        ]
    return AgencyRead(
        id=agency.id,
        division_code=agency.division_code,
        name=agency.name,
        credit_code=agency.credit_code,
        qualification_kind=agency.qualification_kind,
        certificate_number=agency.certificate_number,
        qualification_valid_until=agency.qualification_valid_until,
        contacts=contacts,
        contacts_masked=not in_full,
        version=agency.version,
        created_at=agency.created_at,
        updated_at=agency.updated_at,
    )


async def register_agency(uow: UnitOfWork, who: Principal, cipher: FieldCipher, body: AgencyCreate) -> Agency:
    """An agency in the caller's office's registry."""
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        "division_code": who.division,
        "name": body.name,
        "credit_code": body.credit_code,
        "qualification_kind": body.qualification_kind,
        "certificate_number": body.certificate_number,
        "qualification_valid_until": body.qualification_valid_until,
        "contacts_sealed": _seal(cipher, body.contacts),
        "version": 1,
        "created_by": who.sub,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_agency(
        uow, row, registered=AgencyRegistered(f"{body.credit_code} is registered already; change that record")
    )
    uow.record("agency.registered", "agency", row["id"], who.division, credit_code=body.credit_code)
    return Agency(**row)


async def get_agency(uow: UnitOfWork, who: Principal, agency_id: UUID, *, for_update: bool = False) -> Agency:
    agency = await repository.get_agency(uow.session, who, agency_id, for_update=for_update)
    if agency is None:
        raise AgencyNotFound(f"Agency {agency_id} does not exist")
    return agency


async def read_agency(uow: UnitOfWork, who: Principal, agency_id: UUID) -> Agency:
    """One agency for its reader: a read of its contacts in full is audited."""
    agency = await get_agency(uow, who, agency_id)
    _audit_reads(uow, who, [agency], "detail")
    return agency


async def update_agency(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    agency_id: UUID,
    if_match: str | None,
    body: AgencyUpdate,
) -> Agency:
    agency = await get_agency(uow, who, agency_id, for_update=True)
    require_match(if_match, agency.id, agency.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"contacts"})
    if body.contacts is not None:
        changes["contacts_sealed"] = _seal(cipher, body.contacts)
    if not changes:
        return agency
    changes |= {"version": agency.version + 1, "updated_at": uow.clock.now()}
    repository.update_agency(uow, {"id": agency.id, **changes})
    uow.record("agency.updated", "agency", agency.id, agency.division_code, changes=sorted(changes))
    for name, value in changes.items():
        setattr(agency, name, value)
    return agency


async def page_agencies(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[Agency]:
    """A page (``limit`` rows, the last only to tell that there are more); each shown is audited."""
    await _bound(uow, who)
    agencies = await repository.page_agencies(uow.session, who, **filters)
    _audit_reads(uow, who, agencies[: filters["limit"] - 1], "list")
    return agencies


# --- commissions ------------------------------------------------------------------------------------


async def _check_units(
    uow: UnitOfWork, divisions: DivisionTree, prefixes: list[str], unit_ids: list[str]
) -> None:
    """Each listed unit is a county or a roster school within the commission's divisions."""
    county_codes = [u for u in unit_ids if len(u) == 6 and u.isdigit()]
    school_ids: list[UUID] = []
    for unit in unit_ids:
        if unit in county_codes:
            continue
        try:
            school_ids.append(UUID(unit))
        except ValueError:
            raise field_error(
                InvalidCommission, "unit_ids", f"{unit} is neither a county code nor a school id"
            ) from None
    found = await repository.schools_in(uow.session, school_ids)
    for unit in unit_ids:
        code = found.get(unit) if unit not in county_codes else unit
        division = None if code is None else divisions.get(code)
        if code is None or (unit in county_codes and (division is None or division.level != "county")):
            raise field_error(
                InvalidCommission, "unit_ids", f"{unit} is not a school or county monitoring knows"
            )
        if not any(code.startswith(p) for p in prefixes):
            raise field_error(InvalidCommission, "unit_ids", f"{unit} is outside the commission's divisions")


async def commission(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: CommissionCreate
) -> Commission:
    """Commission an agency of the caller's registry (委托): systems the caller may use, divisions within
    its jurisdiction, units within them, deliverables due within the period."""
    agency = await repository.get_agency(uow.session, who, body.agency_id)
    if agency is None:
        raise field_error(InvalidCommission, "agency_id", "no such agency in your registry")
    today = uow.clock.today()
    if body.ends_on < body.starts_on:
        raise field_error(InvalidCommission, "ends_on", "is before starts_on")
    if body.ends_on < today:
        raise field_error(InvalidCommission, "ends_on", "is in the past")
    if agency.qualification_valid_until < body.starts_on:
        raise field_error(
            InvalidCommission,
            "agency_id",
            f"the agency's qualification expires on {agency.qualification_valid_until}",
        )
    for i, d in enumerate(body.deliverables):
        if not body.starts_on <= d.due_on <= body.ends_on:
            raise field_error(
                InvalidCommission, f"deliverables.{i}.due_on", "is outside the commission's period"
            )
    for code in body.divisions:
        if code not in divisions:
            raise field_error(InvalidCommission, "divisions", f"{code} is not a division of this deployment")
        if not who.can_see(code):
            raise field_error(InvalidCommission, "divisions", f"{code} is outside your jurisdiction")
    for system_id in body.system_ids:
        try:
            await indicators.get_system(uow, who, divisions, system_id)
        except indicators.SystemNotFound:
            raise field_error(
                InvalidCommission, "system_ids", f"{system_id} is not a system you may use"
            ) from None
    unit_ids = sorted(set(body.unit_ids))
    await _check_units(uow, divisions, [jurisdiction_prefix(d) for d in body.divisions], unit_ids)
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        "division_code": who.division,
        "agency_id": agency.id,
        "title": body.title,
        "purchase_reference": body.purchase_reference,
        "system_ids": list(dict.fromkeys(body.system_ids)),
        "divisions": sorted(set(body.divisions)),
        "unit_ids": unit_ids,
        "starts_on": body.starts_on,
        "ends_on": body.ends_on,
        "status": CommissionStatus.ACTIVE,
        "version": 1,
        "created_by": who.sub,
        "created_at": now,
        "updated_at": now,
    }
    deliverables = [
        {
            "id": uuid7(),
            "commission_id": row["id"],
            "division_code": who.division,
            "kind": d.kind,
            "title": d.title,
            "due_on": d.due_on,
            "status": DeliverableStatus.PENDING,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for d in body.deliverables
    ]
    repository.add_commission(uow, row, deliverables)
    uow.record(
        "commission.created",
        "commission",
        row["id"],
        who.division,
        agency_id=str(agency.id),
        divisions=row["divisions"],
    )
    created = Commission(**row)
    created.deliverables = [CommissionDeliverable(**d) for d in deliverables]
    return created


async def get_commission(
    uow: UnitOfWork,
    who: Principal,
    commission_id: UUID,
    *,
    for_update: bool = False,
    with_deliverables: bool = False,
) -> Commission:
    """A commission within the caller's jurisdiction, or for an agency the one its key is bound to."""
    found = await repository.get_commission(
        uow.session,
        who,
        commission_id,
        bound=await _bound(uow, who),
        for_update=for_update,
        with_deliverables=with_deliverables,
    )
    if found is None:
        raise CommissionNotFound(f"Commission {commission_id} does not exist")
    return found


async def page_commissions(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[Commission]:
    return await repository.page_commissions(uow.session, who, bound=await _bound(uow, who), **filters)


async def update_commission(
    uow: UnitOfWork, who: Principal, commission_id: UUID, if_match: str | None, body: CommissionUpdate
) -> Commission:
    """Retitle it, move its end, or close it (completed, terminated); a closed commission stays closed."""
    found = await get_commission(uow, who, commission_id, for_update=True, with_deliverables=True)
    require_match(if_match, found.id, found.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return found
    if found.status != CommissionStatus.ACTIVE:
        raise CommissionClosed(f"The commission is {found.status.value}")
    if "status" in changes:
        changes["status"] = CommissionStatus(changes["status"])
    ends_on = changes.get("ends_on", found.ends_on)
    if ends_on < found.starts_on:
        raise field_error(InvalidCommission, "ends_on", "is before the commission starts")
    if any(d.due_on > ends_on for d in found.deliverables):
        raise field_error(InvalidCommission, "ends_on", "is before a deliverable is due")
    changes |= {"version": found.version + 1, "updated_at": uow.clock.now()}
    repository.update_commission(uow, {"id": found.id, **changes})
    uow.record("commission.updated", "commission", found.id, found.division_code, changes=sorted(changes))
    for name, value in changes.items():
        setattr(found, name, value)
    return found


# --- keys -------------------------------------------------------------------------------------------


def period_end(commission: Commission) -> datetime:
    """The end of the commission's last day, in Asia/Shanghai."""
    return datetime.combine(commission.ends_on + timedelta(days=1), time(), BUSINESS_TZ)


@dataclass(frozen=True)
class IssuedKey:
    binding: CommissionKey
    key: ApiKey
    secret: str


async def issue_key(
    uow: UnitOfWork, who: Principal, commission_id: UUID, body: CommissionKeyCreate
) -> IssuedKey:
    """An API key for the commission's agency: monitoring only, the commission's divisions, expiring by the
    end of its period, bound to the commission."""
    found = await get_commission(uow, who, commission_id)
    if found.status != CommissionStatus.ACTIVE or found.ends_on < uow.clock.today():
        raise CommissionClosed(f"The commission is {found.status.value} and ended on {found.ends_on}")
    end = period_end(found)
    expires_at = body.expires_at or end
    if expires_at > end:
        raise field_error(
            InvalidCommission, "expires_at", f"is after the commission's end ({end.isoformat()})"
        )
    agency = await repository.get_agency(uow.session, who, found.agency_id)
    # One county: the key's home is that county, so what it uploads (evidence) it can see again.
    home = found.divisions[0] if len(found.divisions) == 1 else found.division_code
    request = ApiKeyCreate(
        name=f"{agency.name if agency else found.agency_id} · {found.title}"[:200],
        org=str(found.agency_id),
        roles=[Role.AGENCY],
        division_code=home,
        scope_services=["monitoring"],
        scope_operations=sorted(set(body.operations)),
        scope_divisions=list(found.divisions),
        expires_at=expires_at,
    )
    key, secret = await apikeys.issue(uow, who, request)
    row = {
        "key_id": key.id,
        "commission_id": found.id,
        "division_code": found.division_code,
        "display_prefix": key.display_prefix,
        "expires_at": expires_at,
        "issued_by": who.sub,
        "issued_at": uow.clock.now(),
    }
    repository.bind_key(uow, row)
    uow.record("commission.key_issued", "commission", found.id, found.division_code, key_id=str(key.id))
    return IssuedKey(CommissionKey(**row), key, secret)


async def keys_of(uow: UnitOfWork, who: Principal, commission_id: UUID) -> Sequence[CommissionKey]:
    found = await get_commission(uow, who, commission_id)
    return await repository.keys_of(uow.session, who, found.id)


# --- deliverables, reports and reviews ---------------------------------------------------------------


async def _deliverable(
    uow: UnitOfWork, commission_id: UUID, deliverable_id: UUID, *, for_update: bool = False
) -> CommissionDeliverable:
    found = await repository.get_deliverable(
        uow.session, commission_id, deliverable_id, for_update=for_update
    )
    if found is None:
        raise DeliverableNotFound(
            f"Deliverable {deliverable_id} does not exist in commission {commission_id}"
        )
    return found


@dataclass(frozen=True)
class DeliverableHistory:
    deliverable: CommissionDeliverable
    reports: list[AgencyReport]
    reviews: list[DeliverableReview]


async def deliverable(
    uow: UnitOfWork, who: Principal, commission_id: UUID, deliverable_id: UUID
) -> DeliverableHistory:
    """A deliverable with every submission of it (newest first) and the office's reviews."""
    found = await get_commission(uow, who, commission_id)
    item = await _deliverable(uow, found.id, deliverable_id)
    return DeliverableHistory(
        item,
        await repository.reports_of(uow.session, item.id),
        await repository.reviews_of(uow.session, item.id),
    )


async def _check_quality(
    uow: UnitOfWork, divisions: DivisionTree, found: Commission, quality: QualityResults
) -> None:
    if quality.system_id not in found.system_ids:
        raise field_error(InvalidReport, "quality.system_id", "is not an indicator system of your commission")
    if QUALITY_ELEMENT not in {e.code for e in await indicators.elements(uow, quality.system_id)}:
        raise field_error(InvalidReport, "quality.system_id", f"the system has no element {QUALITY_ELEMENT}")
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(quality.results):
        division = divisions.get(r.county_code)
        if division is None or division.level != "county":
            raise field_error(InvalidReport, f"quality.results.{i}.county_code", "is not a county")
        if not covers(found, division_code=r.county_code):
            raise field_error(
                InvalidReport, f"quality.results.{i}.county_code", "is not within your commission"
            )
        if (r.county_code, r.subject) in seen:
            raise field_error(InvalidReport, f"quality.results.{i}", "repeats a county and subject")
        seen.add((r.county_code, r.subject))


async def submit_report(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    commission_id: UUID,
    deliverable_id: UUID,
    body: ReportCreate,
) -> AgencyReport:
    """The agency delivers (or, once returned, delivers again): a document, and for quality results the
    results per county and subject."""
    found = await require_commission(uow, who)
    if found.id != commission_id:
        raise CommissionNotFound(f"Commission {commission_id} does not exist")
    item = await _deliverable(uow, found.id, deliverable_id, for_update=True)
    if item.status not in (DeliverableStatus.PENDING, DeliverableStatus.RETURNED):
        raise DeliverableNotOpen(
            f"The deliverable is {item.status.value}; it takes a new report once returned"
        )
    wants_results = item.kind == DeliverableKind.QUALITY_RESULTS
    if wants_results and body.quality is None:
        raise field_error(InvalidReport, "quality", "is needed for a quality_results deliverable")
    if not wants_results and body.quality is not None:
        raise field_error(InvalidReport, "quality", f"a {item.kind.value} deliverable carries no results")
    if body.quality is not None:
        await _check_quality(uow, divisions, found, body.quality)
    await evidence.require_usable(uow, who, body.evidence_ids)
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        "deliverable_id": item.id,
        "commission_id": found.id,
        "division_code": found.division_code,
        "text": body.text,
        "evidence_ids": list(dict.fromkeys(body.evidence_ids)),
        "system_id": body.quality.system_id if body.quality else None,
        "year": body.quality.year if body.quality else None,
        "submitted_by": who.sub,
        "key_id": who.key_id,
        "submitted_at": now,
    }
    results = [
        {"id": uuid7(), "report_id": row["id"], **r.model_dump()}
        for r in (body.quality.results if body.quality else [])
    ]
    repository.add_report(uow, row, results)
    _advance(uow, item, DeliverableStatus.SUBMITTED)
    # The actor is the key's subject; the entry names the key as well, for the office's queries.
    uow.record(
        "agency_report.submitted",
        "commission_deliverable",
        item.id,
        found.division_code,
        key_id=who.key_id,
        report_id=str(row["id"]),
        results=len(results),
    )
    uow.emit(
        AgencyDeliverableSubmitted(
            division=found.division_code,
            commission_id=str(found.id),
            deliverable_id=str(item.id),
            report_id=str(row["id"]),
            kind=item.kind.value,
            key_id=who.key_id,
        )
    )
    report = AgencyReport(**row)
    report.results = [QualityResult(**r) for r in results]
    return report


def _advance(uow: UnitOfWork, item: CommissionDeliverable, status: DeliverableStatus) -> None:
    changes = {"status": status, "version": item.version + 1, "updated_at": uow.clock.now()}
    repository.update_deliverable(uow, {"id": item.id, **changes})
    for name, value in changes.items():
        setattr(item, name, value)


async def county_quality(uow: UnitOfWork, report: AgencyReport) -> list[CountyQuality]:
    """Item 3.9 per county of the report: every subject at the system's minimum level or above and its
    difference rate below the maximum."""
    if report.system_id is None:
        return []
    met: dict[str, bool] = {}
    for r in report.results:
        limits = await indicators.thresholds(uow, report.system_id, r.county_code)
        ok = Decimal(r.attainment_level) >= limits.get(
            "quality.attainment_level_min", DEFAULT_LEVEL_MIN
        ) and (r.difference_rate < limits.get("quality.difference_rate_max", DEFAULT_DIFFERENCE_MAX))
        met[r.county_code] = met.get(r.county_code, True) and ok
    return [CountyQuality(county_code=c, met=m) for c, m in sorted(met.items())]


@dataclass(frozen=True)
class Review:
    review: DeliverableReview
    deliverable: CommissionDeliverable
    quality_written: list[CountyQuality]


async def review(
    uow: UnitOfWork,
    who: Principal,
    commission_id: UUID,
    deliverable_id: UUID,
    if_match: str | None,
    body: ReviewCreate,
) -> Review:
    """The office's guidance on the latest submission (二五): accept it, or return it with comments.
    Accepted quality results become each county's approved ``quality.3_9``."""
    found = await get_commission(uow, who, commission_id)
    item = await _deliverable(uow, found.id, deliverable_id, for_update=True)
    require_match(if_match, item.id, item.version)
    if body.decision == ReviewDecision.RETURN and body.comments is None:
        raise field_error(InvalidReview, "comments", "say what to correct when returning the work")
    if item.status != DeliverableStatus.SUBMITTED:
        raise DeliverableNotOpen(f"The deliverable is {item.status.value}; only a submitted one is reviewed")
    latest = (await repository.reports_of(uow.session, item.id))[0]
    written: list[CountyQuality] = []
    if body.decision == ReviewDecision.ACCEPT and latest.system_id is not None and latest.year is not None:
        written = await county_quality(uow, latest)
        values.write_approved(
            uow,
            [
                {
                    "system_id": latest.system_id,
                    "unit_kind": "county",
                    "unit_id": q.county_code,
                    "division_code": q.county_code,
                    "year": latest.year,
                    "element_code": QUALITY_ELEMENT,
                    "value": Decimal(1 if q.met else 0),
                    "submitted_by": latest.submitted_by,
                    "key_id": latest.key_id,
                }
                for q in written
            ],
        )
    row: dict[str, Any] = {
        "id": uuid7(),
        "deliverable_id": item.id,
        "report_id": latest.id,
        "division_code": found.division_code,
        "decision": body.decision,
        "comments": body.comments,
        "reviewed_by": who.sub,
        "reviewed_at": uow.clock.now(),
    }
    repository.add_review(uow, row)
    accepted = body.decision == ReviewDecision.ACCEPT
    _advance(uow, item, DeliverableStatus.ACCEPTED if accepted else DeliverableStatus.RETURNED)
    uow.record(
        "commission_deliverable.reviewed",
        "commission_deliverable",
        item.id,
        found.division_code,
        decision=body.decision.value,
        report_id=str(latest.id),
        quality_counties=[q.county_code for q in written],
    )
    uow.emit(
        AgencyDeliverableReviewed(
            division=found.division_code,
            commission_id=str(found.id),
            deliverable_id=str(item.id),
            report_id=str(latest.id),
            kind=item.kind.value,
            decision=body.decision.value,
            comments=body.comments,
        )
    )
    return Review(DeliverableReview(**row), item, written)
