"""The rules about schools. No SQL, no commit: the unit of work commits row, outbox and audit together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal, Role
from dudao.contracts.inspection import SchoolRegisteredV2, SchoolUpdatedV2
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.encryption import FieldCipher, mask_phone
from dudao.errors import Conflict, DomainError, InvalidInput, NotFound
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible
from dudao.jurisdiction import require_within as within_jurisdiction
from dudao.rectification.models import UnitKind
from dudao.rectification.schemas import SupervisedUnit
from dudao.uow import UnitOfWork
from school_inspection.school import repository
from school_inspection.school.importing import STAGE_COLUMNS, ExportRow, ParsedRow, RowError, as_row
from school_inspection.school.models import STAGES_TAUGHT, School, SchoolType, Stage
from school_inspection.school.schemas import PrincipalContact, SchoolCreate, SchoolUpdate

# Rows checked between two updates of an import's progress bar.
PROGRESS_EVERY = 1_000
# A rejected import names at most this many errors (and says how many there were).
IMPORT_ERRORS_SHOWN = 1_000


class SchoolNotFound(NotFound):
    type = "school-not-found"
    title = "No such school"


class SchoolCodeTaken(Conflict):
    type = "school-code-taken"
    title = "A school with this school code is already registered"


class EnrolmentInconsistent(InvalidInput):
    type = "enrolment-inconsistent"
    title = "The enrolment does not fit the school's type or its stages"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", errors=[{"field": field, "in": "body", "message": reason}])
        self.field = field
        self.reason = reason


class ImportRejected(InvalidInput):
    type = "school-import-rejected"
    title = "Nothing was imported: the file has bad rows"


class DivisionNotVisible(NotFound):
    type = "division-not-found"
    title = "No such division within your jurisdiction"


def require_within(divisions: DivisionTree, who: Principal, code: str, *, county: bool = False) -> None:
    """A division of this deployment to act in (a county-level one, where schools belong, with ``county``),
    within the caller's jurisdiction."""
    division = divisions.require(code)
    if county and division.level != "county":  # a wrong kind of code is a 422 wherever it lies
        raise InvalidDivisionCode(f"{code} is a {division.level}; this needs a county-level division")
    within_jurisdiction(divisions, who, code)


def visible_division(who: Principal, divisions: DivisionTree, code: str | None) -> str:
    """The division a report or policy read is about: the caller's own by default, 404 outside it."""
    code = code or who.division
    divisions.require(code)
    if not who.can_see(code):
        raise DivisionNotVisible(f"{code} is not within your jurisdiction")
    return code


def resolve_enrolment(
    school_type: SchoolType, total: int | None, stages: Mapping[str, int] | None
) -> tuple[int, dict[Stage, int] | None]:
    """The total and the pupils per stage. Given stages make the total; a single-stage school's total is
    its stage; a multi-stage school given only a total has stages unknown (None)."""
    taught = STAGES_TAUGHT[school_type]
    if stages is None:
        total = total or 0
        return total, ({next(iter(taught)): total} if len(taught) == 1 else None)
    counts = {s: stages.get(s.value, 0) for s in Stage}
    for stage, pupils in counts.items():
        if pupils and stage not in taught:
            raise EnrolmentInconsistent(
                f"enrolment_by_stage.{stage.value}",
                f"a {school_type.value} school has no {stage.value} pupils",
            )
    added = sum(counts.values())
    if total is not None and total != added:
        raise EnrolmentInconsistent("enrolment", f"is {total} but the stages add up to {added}")
    return added, counts


def _enrolment_of(body: SchoolCreate) -> tuple[int, dict[Stage, int] | None]:
    stages = body.enrolment_by_stage.model_dump() if body.enrolment_by_stage else None
    return resolve_enrolment(body.school_type, body.enrolment, stages)


# Associated data of the principal's sealed phone: a value copied into another column does not open there.
PHONE_CONTEXT = "inspection.school.principal_phone"


def _sees_principal(who: Principal) -> bool:
    """Offices and inspectors reach principals; the phone is masked for everyone else (units, agencies)."""
    return who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR)


def _sealed_phone(cipher: FieldCipher, phone: str | None, known: School | None = None) -> str | None:
    """The phone, sealed; for a known school whose phone it is already, its own ciphertext, so that an
    import that changes nothing writes nothing."""
    if phone is None:
        return None
    sealed = None if known is None else known.principal_phone_sealed
    if sealed is not None and cipher.decrypt(sealed, context=PHONE_CONTEXT) == phone:
        return sealed
    return cipher.encrypt(phone, context=PHONE_CONTEXT)


def _shown_phone(cipher: FieldCipher, who: Principal, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    phone = cipher.decrypt(sealed, context=PHONE_CONTEXT)
    return phone if _sees_principal(who) else mask_phone(phone)


def shown(cipher: FieldCipher, who: Principal, school: Mapping[Any, Any]) -> dict[str, Any]:
    """The school's row as ``who`` may see it: the principal's phone opened, and masked unless ``who``
    needs it (``SchoolRead`` validates this)."""
    phone = _shown_phone(cipher, who, school["principal_phone_sealed"])
    return {**school, "principal_phone": phone, "contacts_masked": not _sees_principal(who)}


def shown_school(cipher: FieldCipher, who: Principal, school: School) -> dict[str, Any]:
    return shown(cipher, who, repository.columns(school))


def shown_all(
    uow: UnitOfWork, cipher: FieldCipher, who: Principal, schools: Sequence[School], via: str
) -> list[dict[str, Any]]:
    """Schools listed for ``who`` (a zone's, a coverage report's), shown and their reads audited."""
    rows = [repository.columns(school) for school in schools]
    _audit_reads(uow, who, rows, via)
    return [shown(cipher, who, row) for row in rows]


def _audit_reads(uow: UnitOfWork, who: Principal, schools: Sequence[Mapping[Any, Any]], via: str) -> None:
    """One audit entry for the read, naming every school whose principal's phone ``who`` reads in full."""
    if _sees_principal(who):
        read = [s for s in schools if s["principal_phone_sealed"] is not None]
        uow.record_reads("school.principal_read", "school", read, via)


def _values(cipher: FieldCipher, body: SchoolCreate, known: School | None = None) -> dict[str, Any]:
    """Everything a create (or an import row) says about a school, except its code and division, as the
    table's columns."""
    enrolment, stages = _enrolment_of(body)
    phone = body.principal.phone if body.principal else None
    return {
        "name": body.name,
        "school_type": body.school_type,
        "ownership": body.ownership,
        "address": body.address,
        "enrolment": enrolment,
        **{
            column: None if stages is None else stages.get(stage, 0)
            for column, stage in STAGE_COLUMNS.items()
        },
        "teaching_point": body.teaching_point,
        "principal_name": body.principal.name if body.principal else None,
        "principal_phone_sealed": _sealed_phone(cipher, phone, known),
    }


def _set_principal(cipher: FieldCipher, school: School, principal: PrincipalContact | None) -> None:
    school.principal_name = principal.name if principal else None
    school.principal_phone_sealed = _sealed_phone(cipher, principal.phone if principal else None, school)


def _facts(school: Mapping[str, Any]) -> dict[str, Any]:
    """What the school's events say about it."""
    return {
        "division": school["division_code"],
        "school_id": str(school["id"]),
        "school_code": school["school_code"],
        "name": school["name"],
        "school_type": school["school_type"].value,
        "ownership": school["ownership"].value,
        "enrolment": school["enrolment"],
        "enrolment_by_stage": None
        if school["pupils_primary"] is None  # the stage columns are all set or all unknown
        else {stage.value: school[column] for column, stage in STAGE_COLUMNS.items()},
        "teaching_point": school["teaching_point"],
    }


def _registered(school: Mapping[str, Any]) -> SchoolRegisteredV2:
    return SchoolRegisteredV2(**_facts(school))


def _updated(school: Mapping[str, Any]) -> SchoolUpdatedV2:
    return SchoolUpdatedV2(**_facts(school), version=school["version"])


def supervised_unit(school: School, competent_department: str | None) -> SupervisedUnit:
    """The school as the unit a finding is raised at (its rectification is the school's to carry out)."""
    return SupervisedUnit(
        id=school.school_code,
        kind=UnitKind.SCHOOL,
        name=school.name,
        division_code=school.division_code,
        competent_department=competent_department,
    )


async def register(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, cipher: FieldCipher, body: SchoolCreate
) -> dict[str, Any]:
    """The registered school's row, as it will be written at commit."""
    require_within(divisions, who, body.division_code, county=True)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "school_code": body.school_code,
        "division_code": body.division_code,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        **_values(cipher, body),
    }
    repository.add(
        uow, row, code_taken=SchoolCodeTaken(f"School code {body.school_code} is already registered")
    )
    uow.record("school.registered", "school", row["id"], body.division_code, school_code=body.school_code)
    uow.emit(_registered(row))
    return row


async def get(uow: UnitOfWork, who: Principal, school_id: UUID, *, for_update: bool = False) -> School:
    missing = SchoolNotFound(f"School {school_id} does not exist")
    return await require_visible(uow.session, who, School, school_id, missing, for_update=for_update)


async def read(uow: UnitOfWork, who: Principal, school_id: UUID) -> School:
    """One school for its reader: a read of the principal's phone in full is audited."""
    school = await get(uow, who, school_id)
    _audit_reads(uow, who, [repository.columns(school)], "detail")
    return school


async def update(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    school_id: UUID,
    if_match: str | None,
    body: SchoolUpdate,
) -> School:
    school = await get(uow, who, school_id, for_update=True)
    require_match(if_match, school.id, school.version)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return school
    school_type = body.school_type or school.school_type
    if body.enrolment_by_stage is not None:
        total, stages = body.enrolment, changes["enrolment_by_stage"]
    elif body.enrolment is not None:
        total, stages = body.enrolment, None
    else:  # a change of type must still fit the pupils the school has
        total, stages = school.enrolment, school.enrolment_by_stage
    school.enrolment, school.enrolment_by_stage = resolve_enrolment(school_type, total, stages)
    for name in ("name", "school_type", "ownership", "address", "teaching_point"):
        if name in changes:
            setattr(school, name, getattr(body, name))
    if body.principal is not None:
        _set_principal(cipher, school, body.principal)
    school.updated_at = uow.clock.now()
    await uow.session.flush()
    uow.record("school.updated", "school", school.id, school.division_code, changes=sorted(changes))
    uow.emit(_updated(repository.columns(school)))
    return school


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    """A page (``limit + 1`` rows); each school whose principal's phone is shown in full is audited."""
    rows = await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, updated_since=updated_since
    )
    _audit_reads(uow, who, rows[:limit], "list")
    return rows


def record_export(uow: UnitOfWork, who: Principal, within: str | None) -> None:
    """An export of principals' phones in full is one audit entry: its rows stream after the commit."""
    if _sees_principal(who):
        uow.record("school.register_exported", "school_export", uuid7(), who.division, within=within)


async def export(
    session: AsyncSession, cipher: FieldCipher, who: Principal, within: str | None
) -> AsyncIterator[ExportRow]:
    """The caller's schools by division and code, streamed from one snapshot, as the rows of a file."""
    async for school in repository.stream_visible(session, who, within):
        yield as_row(school, _shown_phone(cipher, who, school.principal_phone_sealed))


# --- import -------------------------------------------------------------------------------------------

# Phase name, rows done, rows in the phase: the CLI draws it as a progress bar.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ImportResult:
    rows: int
    inserted: int
    updated: int
    unchanged: int


_COMPARED = (
    "name",
    "school_type",
    "ownership",
    "address",
    "enrolment",
    *STAGE_COLUMNS,
    "teaching_point",
    "principal_name",
    "principal_phone_sealed",
)


def _error_column(field: str) -> str:
    """The file column of a field an API rule names (``enrolment_by_stage.junior`` → ``pupils_junior``)."""
    head, _, stage = field.partition(".")
    return f"pupils_{stage}" if head == "enrolment_by_stage" else head


def _row_errors(who: Principal, divisions: DivisionTree, row: int, body: SchoolCreate) -> list[RowError]:
    """The rules a single-school registration applies, as errors of this row instead of a refusal."""
    errors = []
    try:
        require_within(divisions, who, body.division_code, county=True)
    except DomainError as exc:
        errors.append(RowError(row, "division_code", exc.detail))
    try:
        _enrolment_of(body)
    except EnrolmentInconsistent as exc:
        errors.append(RowError(row, _error_column(exc.field), exc.reason))
    return errors


def _reject(errors: list[RowError]) -> ImportRejected:
    errors.sort(key=lambda e: (e.row, e.column or ""))
    shown = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors[:IMPORT_ERRORS_SHOWN]]
    return ImportRejected(
        f"{len(errors)} error(s); fix them and send the whole file again",
        errors=shown,
        error_count=len(errors),
    )


async def import_rows(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    cipher: FieldCipher,
    rows: Sequence[ParsedRow],
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Register new schools and update known ones (matched by school code), all rows or none.

    Each row is the school's whole record: an empty optional cell clears the field. A school's division
    is never changed by an import, and a code registered outside the caller's jurisdiction is an error.
    """
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    valid: dict[str, SchoolCreate] = {}
    for done, parsed in enumerate(rows, start=1):
        errors += parsed.errors
        body = parsed.school
        if body is not None:
            if body.school_code in first_row:
                errors.append(
                    RowError(
                        parsed.row, "school_code", f"also on row {first_row[body.school_code]} of this file"
                    )
                )
            else:
                first_row[body.school_code] = parsed.row
                row_errors = _row_errors(who, divisions, parsed.row, body)
                errors += row_errors
                if not row_errors:
                    valid[body.school_code] = body
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress("checked", done, len(rows))
    if not rows:
        errors.append(RowError(2, None, "the file has no schools"))
    existing = await repository.lock_by_codes(uow.session, list(first_row))
    for code, school in existing.items():
        if not who.can_see(school.division_code):
            errors.append(
                RowError(
                    first_row[code], "school_code", "is registered to a school outside your jurisdiction"
                )
            )
        elif code in valid and valid[code].division_code != school.division_code:
            errors.append(
                RowError(
                    first_row[code],
                    "division_code",
                    f"the school is registered in {school.division_code}; an import does not move schools",
                )
            )
    if errors:
        raise _reject(errors)

    now = uow.clock.now()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for code, body in valid.items():
        known = existing.get(code)
        row = {
            "id": known.id if known else uuid7(),
            "school_code": code,
            "division_code": body.division_code,
            "version": known.version + 1 if known else 1,
            "created_at": known.created_at if known else now,
            "updated_at": now,
            **_values(cipher, body, known),
        }
        if known is None:
            new.append(row)
        elif any(row[c] != getattr(known, c) for c in _COMPARED):
            changed.append(row)

    import_id = uuid7()
    repository.insert_many(uow, new)
    repository.update_many(uow, changed)
    for row in new:
        uow.record(
            "school.registered",
            "school",
            row["id"],
            row["division_code"],
            school_code=row["school_code"],
            import_id=str(import_id),
        )
        uow.emit(_registered(row))
    for row in changed:
        uow.record("school.updated", "school", row["id"], row["division_code"], import_id=str(import_id))
        uow.emit(_updated(row))
    result = ImportResult(
        rows=len(rows),
        inserted=len(new),
        updated=len(changed),
        unchanged=len(valid) - len(new) - len(changed),
    )
    uow.record("school.imported", "school_import", import_id, who.division, **asdict(result))
    await uow.flush()  # one statement per table, with the outbox and the audit entries
    if progress is not None:
        progress("written", len(new) + len(changed), len(new) + len(changed))
    return result
