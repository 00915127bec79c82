"""The rules of dropout control. No SQL, no commit.

The register is the county office's: only it records pupils, measures and returns, and only it sees a
pupil's name and ID number in full; offices above and inspectors see them masked. Every read of a pupil,
in a list or alone, is an audit entry. A county's rate is its pupils out of school now (dropped out, not
returned) per thousand enrolled; the office above assesses its counties against their targets once per
year, and a county behind target gets a finding at its people's government.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.encryption import FieldCipher, mask_id_number, mask_name
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible, require_within
from dudao.rectification.models import OriginKind, Severity
from dudao.rectification.schemas import DeadlineSpec, FindingCreate
from dudao.uow import UnitOfWork
from governance.dropout import repository
from governance.dropout.models import DropoutAssessment, DropoutPupil, DropoutStatus, DropoutTarget
from governance.dropout.schemas import (
    AssessmentCreate,
    CountyRate,
    MeasureCreate,
    PupilCreate,
    PupilRead,
    PupilReturn,
    PupilUpdate,
    TargetCreate,
    TargetUpdate,
)
from governance.rectifications import rectifications
from governance.unit.models import SupervisedUnitRecord
from governance.unit.service import as_supervised_unit

# Associated data of the sealed columns: a value copied into another column does not open there.
NAME_CONTEXT = "governance.dropout_pupil.name"
ID_NUMBER_CONTEXT = "governance.dropout_pupil.id_number"
ID_NUMBER_PURPOSE = "resident_id_number"
# The days a county behind target has to rectify.
RECTIFICATION_DAYS = 90


class PupilNotFound(NotFound):
    type = "dropout-pupil-not-found"
    title = "No such pupil in a dropout register"


class PupilRegistered(Conflict):
    type = "dropout-pupil-registered"
    title = "The county's register already has a pupil with this ID number"


class NotTheKeeper(Forbidden):
    type = "not-the-register-keeper"
    title = "Only the county office that keeps the register may change it"


class WrongPupilStatus(Conflict):
    type = "wrong-dropout-status"
    title = "The pupil's status does not allow this"


class InvalidDropoutRecord(InvalidInput):
    type = "invalid-dropout-record"
    title = "The record is not consistent"


class TargetNotFound(NotFound):
    type = "dropout-target-not-found"
    title = "No such dropout target"


class TargetExists(Conflict):
    type = "dropout-target-exists"
    title = "The county already has a target for this year"


class GovernmentNotRegistered(Conflict):
    type = "county-government-not-registered"
    title = "A county behind target has no people's government in the registry to address the finding to"


class NotAboveTheCounty(Forbidden):
    type = "not-above-the-county"
    title = "Counties are assessed by the office above them"


def _keeper(who: Principal, division_code: str) -> bool:
    return Role.SUPERVISION_OFFICE in who.roles and who.division == division_code


def _require_keeper(who: Principal, pupil: DropoutPupil) -> None:
    if not _keeper(who, pupil.division_code):
        raise NotTheKeeper(f"The register of {pupil.division_code} is kept by that county's office")


def shown(cipher: FieldCipher, who: Principal, pupil: DropoutPupil) -> PupilRead:
    """The pupil as ``who`` may see them: in full for the keeper, masked for everyone else."""
    keeper = _keeper(who, pupil.division_code)
    name = cipher.decrypt(pupil.name_sealed, context=NAME_CONTEXT)
    id_number = cipher.decrypt(pupil.id_number_sealed, context=ID_NUMBER_CONTEXT)
    return PupilRead(
        id=pupil.id,
        division_code=pupil.division_code,
        name=name if keeper else mask_name(name),
        id_number=id_number if keeper else mask_id_number(id_number),
        masked=not keeper,
        school_name=pupil.school_name,
        grade=pupil.grade,
        reason=pupil.reason,
        status=pupil.status,
        left_on=pupil.left_on,
        returned_on=pupil.returned_on,
        version=pupil.version,
        created_at=pupil.created_at,
        updated_at=pupil.updated_at,
    )


def _audit_reads(uow: UnitOfWork, who: Principal, pupils: Sequence[DropoutPupil], via: str) -> None:
    for pupil in pupils:
        uow.record(
            "dropout_pupil.read",
            "dropout_pupil",
            pupil.id,
            pupil.division_code,
            via=via,
            masked=not _keeper(who, pupil.division_code),
        )


def _not_in_future(uow: UnitOfWork, field: str, day: date | None) -> None:
    if day is not None and day > uow.clock.today():
        raise field_error(InvalidDropoutRecord, field, "is in the future")


def _check_status(status: DropoutStatus, left_on: date | None) -> None:
    if status == DropoutStatus.RETURNED:
        raise field_error(InvalidDropoutRecord, "status", "a return is recorded with POST …/return")
    if status == DropoutStatus.DROPPED_OUT and left_on is None:
        raise field_error(InvalidDropoutRecord, "left_on", "is needed for a pupil who dropped out")


async def register(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, cipher: FieldCipher, body: PupilCreate
) -> DropoutPupil:
    """A pupil in the caller's own county's register."""
    if Role.SUPERVISION_OFFICE not in who.roles or divisions.require(who.division).level != "county":
        raise NotTheKeeper("A dropout register is kept by a county office")
    _check_status(body.status, body.left_on)
    _not_in_future(uow, "left_on", body.left_on)
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        "division_code": who.division,
        "name_sealed": cipher.encrypt(body.name, context=NAME_CONTEXT),
        "id_number_sealed": cipher.encrypt(body.id_number.upper(), context=ID_NUMBER_CONTEXT),
        "id_number_index": cipher.blind_index(body.id_number, purpose=ID_NUMBER_PURPOSE),
        "school_name": body.school_name,
        "grade": body.grade,
        "reason": body.reason,
        "status": body.status,
        "left_on": body.left_on,
        "returned_on": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_pupil(
        uow, row, registered=PupilRegistered("The register already has this pupil; update that record")
    )
    uow.record("dropout_pupil.registered", "dropout_pupil", row["id"], who.division, status=body.status.value)
    return DropoutPupil(**row)


async def _get(uow: UnitOfWork, who: Principal, pupil_id: UUID, **options: bool) -> DropoutPupil:
    pupil = await repository.get_pupil(uow.session, who, pupil_id, **options)
    if pupil is None:
        raise PupilNotFound(f"Pupil {pupil_id} does not exist")
    return pupil


async def read(uow: UnitOfWork, who: Principal, pupil_id: UUID) -> DropoutPupil:
    """One pupil with the measures taken; the read is audited."""
    pupil = await _get(uow, who, pupil_id, with_measures=True)
    _audit_reads(uow, who, [pupil], "detail")
    return pupil


async def page(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    *,
    after: UUID | None,
    limit: int,
    within: str | None = None,
    status: DropoutStatus | None = None,
    updated_since: datetime | None = None,
    id_number: str | None = None,
) -> list[DropoutPupil]:
    """A page (``limit + 1`` rows) of the pupils within the caller's jurisdiction; each shown is audited."""
    index = None if id_number is None else cipher.blind_index(id_number, purpose=ID_NUMBER_PURPOSE)
    pupils = await repository.page_pupils(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        within=within,
        status=status,
        updated_since=updated_since,
        id_number_index=index,
    )
    _audit_reads(uow, who, pupils[:limit], "list" if id_number is None else "lookup")
    return list(pupils)


async def _changing(uow: UnitOfWork, who: Principal, pupil_id: UUID, if_match: str | None) -> DropoutPupil:
    pupil = await _get(uow, who, pupil_id, for_update=True)
    _require_keeper(who, pupil)
    require_match(if_match, pupil.id, pupil.version)
    return pupil


def _write(uow: UnitOfWork, pupil: DropoutPupil, changes: dict[str, Any]) -> DropoutPupil:
    """The locked pupil with ``changes``, handed to the unit of work as one update."""
    changes = {**changes, "version": pupil.version + 1, "updated_at": uow.clock.now()}
    repository.update_pupil(uow, {"id": pupil.id, **changes})
    for name, value in changes.items():
        setattr(pupil, name, value)
    return pupil


async def update(
    uow: UnitOfWork, who: Principal, pupil_id: UUID, if_match: str | None, body: PupilUpdate
) -> DropoutPupil:
    pupil = await _changing(uow, who, pupil_id, if_match)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return pupil
    status = changes.get("status", pupil.status)
    left_on = changes.get("left_on", pupil.left_on)
    _check_status(status, left_on)
    _not_in_future(uow, "left_on", body.left_on)
    if "status" in changes:
        changes["returned_on"] = None  # out of school again after a return
    uow.record(
        "dropout_pupil.updated", "dropout_pupil", pupil.id, pupil.division_code, changes=sorted(changes)
    )
    return _write(uow, pupil, changes)


async def return_to_school(
    uow: UnitOfWork, who: Principal, pupil_id: UUID, if_match: str | None, body: PupilReturn
) -> DropoutPupil:
    """The pupil is back at school (复学)."""
    pupil = await _changing(uow, who, pupil_id, if_match)
    if pupil.status != DropoutStatus.DROPPED_OUT:
        raise WrongPupilStatus(f"Only a pupil who dropped out returns; this one is {pupil.status.value}")
    _not_in_future(uow, "returned_on", body.returned_on)
    if pupil.left_on is not None and body.returned_on < pupil.left_on:
        raise field_error(InvalidDropoutRecord, "returned_on", f"is before the pupil left ({pupil.left_on})")
    uow.record("dropout_pupil.returned", "dropout_pupil", pupil.id, pupil.division_code)
    return _write(
        uow,
        pupil,
        {"status": DropoutStatus.RETURNED, "returned_on": body.returned_on, "school_name": body.school_name},
    )


async def take_measure(
    uow: UnitOfWork, who: Principal, pupil_id: UUID, body: MeasureCreate
) -> tuple[DropoutPupil, dict[str, Any]]:
    """A measure taken for the pupil; the pupil's record changes with it (mobile clients sync it)."""
    pupil = await _get(uow, who, pupil_id, for_update=True)
    _require_keeper(who, pupil)
    _not_in_future(uow, "taken_on", body.taken_on)
    row = {
        "id": uuid7(),
        "pupil_id": pupil.id,
        "division_code": pupil.division_code,
        "kind": body.kind,
        "description": body.description,
        "taken_on": body.taken_on,
        "taken_by": who.sub,
        "created_at": uow.clock.now(),
    }
    repository.add_measure(uow, row)
    uow.record("dropout_measure.taken", "dropout_pupil", pupil.id, pupil.division_code, kind=body.kind.value)
    return _write(uow, pupil, {}), row


# --- targets, rates and assessments ------------------------------------------------------------------


async def set_target(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: TargetCreate
) -> dict[str, Any]:
    division = require_within(divisions, who, body.division_code)
    if division.level != "county":
        raise InvalidDivisionCode(f"{body.division_code} is a {division.level}; targets are per county")
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "division_code": body.division_code,
        "year": body.year,
        "enrolled_pupils": body.enrolled_pupils,
        "target_permille": body.target_permille,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_target(
        uow, row, exists=TargetExists(f"{body.division_code} has a target for {body.year}; change that one")
    )
    uow.record("dropout_target.set", "dropout_target", row["id"], body.division_code, year=body.year)
    return row


async def get_target(
    uow: UnitOfWork, who: Principal, target_id: UUID, *, for_update: bool = False
) -> DropoutTarget:
    missing = TargetNotFound(f"Dropout target {target_id} does not exist")
    return await require_visible(uow.session, who, DropoutTarget, target_id, missing, for_update=for_update)


async def update_target(
    uow: UnitOfWork, who: Principal, target_id: UUID, if_match: str | None, body: TargetUpdate
) -> DropoutTarget:
    target = await get_target(uow, who, target_id, for_update=True)
    require_match(if_match, target.id, target.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("enrolled_pupils", 0) is None:
        raise field_error(InvalidDropoutRecord, "enrolled_pupils", "may not be cleared")
    if not changes:
        return target
    changes |= {"version": target.version + 1, "updated_at": uow.clock.now()}
    repository.update_target(uow, {"id": target.id, **changes})
    uow.record(
        "dropout_target.updated", "dropout_target", target.id, target.division_code, changes=sorted(changes)
    )
    for name, value in changes.items():
        setattr(target, name, value)
    return target


async def page_targets(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[DropoutTarget]:
    return await repository.page_targets(uow.session, who, **filters)


def _rate(target: DropoutTarget, counts: dict[DropoutStatus, int], default_target: float) -> CountyRate:
    out = counts.get(DropoutStatus.DROPPED_OUT, 0)
    rate = round(1000 * out / target.enrolled_pupils, 3)
    goal = default_target if target.target_permille is None else target.target_permille
    return CountyRate(
        division_code=target.division_code,
        year=target.year,
        enrolled_pupils=target.enrolled_pupils,
        at_risk=counts.get(DropoutStatus.AT_RISK, 0),
        dropped_out=out,
        returned=counts.get(DropoutStatus.RETURNED, 0),
        rate_permille=rate,
        target_permille=goal,
        behind=rate > goal,
    )


async def rates(
    uow: UnitOfWork, who: Principal, year: int, within: str | None, default_target: float
) -> list[CountyRate]:
    """Each county with a target for the year, within the caller's jurisdiction: its rate now and target."""
    counted = await repository.county_counts(uow.session, who, year, within)
    return [_rate(target, counts, default_target) for target, counts in counted]


@dataclass(frozen=True)
class AssessmentRun:
    assessed: list[dict[str, Any]]
    already_assessed: list[str]
    without_target: list[str]


async def assess(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: AssessmentCreate, default_target: float
) -> AssessmentRun:
    """Assess the counties below the caller against their targets for the year, each once; a county behind
    target gets a finding at its people's government, to rectify through the rectification loop."""
    if divisions.require(who.division).level == "county":
        raise NotAboveTheCounty("A county's rate is assessed by the city or region office above it")
    if body.within is not None and not who.can_see(body.within):
        raise field_error(InvalidDropoutRecord, "within", "is outside your jurisdiction")
    counted = await repository.county_counts(uow.session, who, body.year, body.within, lock=True)
    counties = [target.division_code for target, _ in counted]
    done = await repository.assessed_counties(uow.session, who, body.year, counties)
    prefix = body.within or who.division
    with_target = set(counties)
    without = [
        d.code
        for d in divisions.within(prefix)
        if d.level == "county" and who.can_see(d.code) and d.code not in with_target
    ]
    due = [
        _rate(target, counts, default_target)
        for target, counts in counted
        if target.division_code not in done
    ]
    behind = [rate.division_code for rate in due if rate.behind]
    units = await repository.governments(uow.session, who, behind)
    unregistered = [county for county in behind if county not in units]
    if unregistered:
        raise GovernmentNotRegistered(
            f"Register the people's governments of {', '.join(unregistered)} first", counties=unregistered
        )
    findings = [_finding(rate, units[rate.division_code]) for rate in due if rate.behind]
    raised = await rectifications.service.raise_findings(uow, who, divisions, findings)
    rectification_ids = {r.division_code: r.id for r in raised}
    now = uow.clock.now()
    rows: list[dict[str, Any]] = []
    for rate in due:
        rows.append(
            {
                "id": uuid7(),
                "division_code": rate.division_code,
                "year": rate.year,
                "enrolled_pupils": rate.enrolled_pupils,
                "dropped_out": rate.dropped_out,
                "rate_permille": rate.rate_permille,
                "target_permille": rate.target_permille,
                "behind": rate.behind,
                "rectification_id": rectification_ids.get(rate.division_code),
                "assessed_by": who.sub,
                "assessed_at": now,
            }
        )
        uow.record(
            "dropout.assessed",
            "dropout_assessment",
            rows[-1]["id"],
            rate.division_code,
            year=rate.year,
            rate_permille=rate.rate_permille,
            behind=rate.behind,
        )
    repository.add_assessments(uow, rows)
    return AssessmentRun(assessed=rows, already_assessed=sorted(done), without_target=without)


def _finding(rate: CountyRate, government: SupervisedUnitRecord) -> FindingCreate:
    """The finding at a county's government whose dropout rate is behind its target."""
    return FindingCreate(
        unit=as_supervised_unit(government),
        origin_kind=OriginKind.EVALUATION,
        origin_ref=f"dropout:{rate.division_code}:{rate.year}",
        category="dropout_control",
        severity=Severity.MAJOR,
        description=(
            f"{rate.year}年义务教育辍学率{rate.rate_permille}‰，高于控辍保学目标{rate.target_permille}‰"
            f"（在校生{rate.enrolled_pupils}人，辍学未复学{rate.dropped_out}人）"
        ),
        requirement="落实控辍保学责任，逐一劝返辍学学生，将辍学率控制在目标以内",
        deadline=DeadlineSpec(days=RECTIFICATION_DAYS),
    )


async def page_assessments(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[DropoutAssessment]:
    return await repository.page_assessments(uow.session, who, **filters)
