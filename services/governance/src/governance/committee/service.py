"""The rules about committees, member units and liaisons. No SQL, no commit.

The division's own office keeps its committee and member units; each member unit names its liaisons (or
the office does). Liaisons' contacts are sealed at rest and shown in full only to the office and to the
liaison's own member unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, Table

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode
from dudao.encryption import FieldCipher, mask_email, mask_phone
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.jurisdiction import get_visible, require_within
from dudao.uow import UnitOfWork
from governance.committee import repository
from governance.committee.models import Committee, CommitteeMember
from governance.committee.schemas import (
    CommitteeCreate,
    CommitteeDirectory,
    CommitteeUpdate,
    LiaisonCreate,
    LiaisonRead,
    LiaisonUpdate,
    MemberCreate,
    MemberDirectoryEntry,
    MemberRead,
    MemberUpdate,
)
from governance.office.models import SupervisionOffice
from governance.office.service import require_own_office

PHONE, EMAIL = "governance.liaison.phone", "governance.liaison.email"  # encryption contexts


class CommitteeNotFound(NotFound):
    type = "committee-not-found"
    title = "No such committee"


class MemberNotFound(NotFound):
    type = "committee-member-not-found"
    title = "No such member unit of this committee"


class LiaisonNotFound(NotFound):
    type = "liaison-not-found"
    title = "No such liaison of this committee"


class CommitteeFormed(Conflict):
    type = "committee-formed"
    title = "The division already has its committee"


class MemberTaken(Conflict):
    type = "committee-member-taken"
    title = "The committee already has a member unit of this name"


class UnknownOffice(InvalidInput):
    type = "unknown-supervision-office"
    title = "The office named is not the division's recorded supervision office"


class NotTheMemberUnit(Forbidden):
    type = "not-the-member-unit"
    title = "Only the member unit itself (or the office) may name its liaisons"


def _columns(table: Table, record: Any) -> dict[str, Any]:
    return {c.key: getattr(record, c.key) for c in table.columns}


async def form(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: CommitteeCreate
) -> dict[str, Any]:
    """The division's committee, as it will be written at commit."""
    try:
        divisions.require(body.division_code)
    except InvalidDivisionCode as exc:
        raise field_error(InvalidDivisionCode, "division_code", exc.detail) from None
    require_within(divisions, who, body.division_code)
    require_own_office(who, body.division_code)
    office = await get_visible(uow.session, who, SupervisionOffice, body.office_id)
    if office is None or office.division_code != body.division_code:
        raise field_error(
            UnknownOffice, "office_id", f"{body.office_id} is not the office of {body.division_code}"
        )
    now = uow.clock.now()
    row = {"id": uuid7(), **body.model_dump(), "version": 1, "created_at": now, "updated_at": now}
    repository.add(
        uow,
        repository.COMMITTEES,
        row,
        {repository.COMMITTEE_TAKEN: CommitteeFormed(f"{body.division_code} already has its committee")},
    )
    uow.record("committee.formed", "committee", row["id"], body.division_code, name=body.name)
    return row


async def _committee(
    uow: UnitOfWork, who: Principal, committee_id: UUID, *, for_update: bool = False
) -> Committee:
    committee = await repository.get_visible(uow.session, who, committee_id, for_update=for_update)
    if committee is None:
        raise CommitteeNotFound(f"Committee {committee_id} does not exist")
    return committee


async def update(
    uow: UnitOfWork, who: Principal, committee_id: UUID, if_match: str | None, body: CommitteeUpdate
) -> dict[str, Any]:
    committee = await _committee(uow, who, committee_id, for_update=True)
    require_own_office(who, committee.division_code)
    require_match(if_match, committee.id, committee.version)
    row = _columns(repository.COMMITTEES, committee)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "chair", "vice_chairs", "deputy_chief_inspectors"):
        if changes.get(required, ...) is None:
            changes.pop(required)
    if not changes:
        return row
    row.update(changes, version=committee.version + 1, updated_at=uow.clock.now())
    repository.change(uow, repository.COMMITTEES, row, {})
    uow.record(
        "committee.updated", "committee", committee.id, committee.division_code, changes=sorted(changes)
    )
    return row


async def add_member(
    uow: UnitOfWork, who: Principal, committee_id: UUID, body: MemberCreate
) -> dict[str, Any]:
    committee = await _committee(uow, who, committee_id)
    require_own_office(who, committee.division_code)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "committee_id": committee.id,
        "division_code": committee.division_code,
        "name": body.name,
        "duties": body.duties,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add(
        uow, repository.MEMBERS, row, {repository.MEMBER_TAKEN: MemberTaken(f"{body.name} is a member")}
    )
    uow.record(
        "committee_member.added", "committee_member", row["id"], committee.division_code, name=body.name
    )
    return row


async def _member(
    uow: UnitOfWork, who: Principal, committee: Committee, member_id: UUID, *, for_update: bool = False
) -> CommitteeMember:
    member = await repository.member(uow.session, who, committee.id, member_id, for_update=for_update)
    if member is None:
        raise MemberNotFound(f"Committee {committee.id} has no member unit {member_id}")
    return member


async def update_member(
    uow: UnitOfWork,
    who: Principal,
    committee_id: UUID,
    member_id: UUID,
    if_match: str | None,
    body: MemberUpdate,
) -> dict[str, Any]:
    committee = await _committee(uow, who, committee_id)
    require_own_office(who, committee.division_code)
    member = await _member(uow, who, committee, member_id, for_update=True)
    require_match(if_match, member.id, member.version)
    row = _columns(repository.MEMBERS, member)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return row
    row.update(changes, version=member.version + 1, updated_at=uow.clock.now())
    taken = MemberTaken(f"{changes.get('name')} is a member already")
    repository.change(uow, repository.MEMBERS, row, {repository.MEMBER_TAKEN: taken})
    uow.record(
        "committee_member.updated",
        "committee_member",
        member.id,
        member.division_code,
        changes=sorted(changes),
    )
    return row


def _require_office_or_member(who: Principal, committee: Committee, member_id: UUID) -> None:
    if who.has_any(Role.SUPERVISION_OFFICE):
        require_own_office(who, committee.division_code)
    elif who.org != str(member_id):
        raise NotTheMemberUnit(f"Name liaisons as the member unit {member_id} (your token's org claim)")


def _sees_contacts(who: Principal, member_id: UUID) -> bool:
    return who.has_any(Role.SUPERVISION_OFFICE) or who.org == str(member_id)


def liaison_read(who: Principal, cipher: FieldCipher, liaison: Mapping[str, Any]) -> LiaisonRead:
    """The liaison's row as ``who`` may see it: its contacts opened, and masked unless ``who`` needs them."""
    phone = cipher.decrypt(liaison["phone_sealed"], context=PHONE)
    sealed_email = liaison["email_sealed"]
    email = None if sealed_email is None else cipher.decrypt(sealed_email, context=EMAIL)
    full = _sees_contacts(who, liaison["member_id"])
    return LiaisonRead(
        id=liaison["id"],
        member_id=liaison["member_id"],
        name=liaison["name"],
        post=liaison["post"],
        phone=phone if full else mask_phone(phone),
        email=email if full or email is None else mask_email(email),
        masked=not full,
        version=liaison["version"],
        updated_at=liaison["updated_at"],
    )


def _seal(cipher: FieldCipher, value: str | None, context: str) -> str | None:
    return None if value is None else cipher.encrypt(value, context=context)


async def name_liaison(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    committee_id: UUID,
    member_id: UUID,
    body: LiaisonCreate,
) -> LiaisonRead:
    committee = await _committee(uow, who, committee_id)
    member = await _member(uow, who, committee, member_id)
    _require_office_or_member(who, committee, member.id)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "member_id": member.id,
        "committee_id": committee.id,
        "division_code": committee.division_code,
        "name": body.name,
        "post": body.post,
        "phone_sealed": cipher.encrypt(body.phone, context=PHONE),
        "email_sealed": _seal(cipher, body.email, EMAIL),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add(uow, repository.LIAISONS, row, {})
    # The contacts stay out of the audit log: it says who was named, not how to reach them.
    uow.record("liaison.named", "liaison", row["id"], committee.division_code, member_id=str(member.id))
    return liaison_read(who, cipher, row)


async def update_liaison(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    committee_id: UUID,
    liaison_id: UUID,
    if_match: str | None,
    body: LiaisonUpdate,
) -> LiaisonRead:
    committee = await _committee(uow, who, committee_id)
    liaison = await repository.liaison(uow.session, who, committee.id, liaison_id)
    if liaison is None:
        raise LiaisonNotFound(f"Committee {committee_id} has no liaison {liaison_id}")
    _require_office_or_member(who, committee, liaison.member_id)
    require_match(if_match, liaison.id, liaison.version)
    row = _columns(repository.LIAISONS, liaison)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "post", "phone"):
        if changes.get(required, ...) is None:
            changes.pop(required)
    if not changes:
        return liaison_read(who, cipher, row)
    row.update({k: v for k, v in changes.items() if k in ("name", "post")})
    if "phone" in changes:
        row["phone_sealed"] = cipher.encrypt(changes["phone"], context=PHONE)
    if "email" in changes:
        row["email_sealed"] = _seal(cipher, changes["email"], EMAIL)
    row.update(version=liaison.version + 1, updated_at=uow.clock.now())
    repository.change(uow, repository.LIAISONS, row, {})
    uow.record("liaison.updated", "liaison", liaison.id, liaison.division_code, changes=sorted(changes))
    return liaison_read(who, cipher, row)


async def directory(
    uow: UnitOfWork, who: Principal, cipher: FieldCipher, committee_id: UUID
) -> CommitteeDirectory:
    """The committee with its member units and their liaisons; 404 outside jurisdiction, and for a member
    unit's people, for any committee but their own. Each liaison shown in full is an audit entry."""
    found = await repository.directory(uow.session, who, committee_id)
    if found is None:
        raise CommitteeNotFound(f"Committee {committee_id} does not exist")
    committee, members, liaisons = found
    by_member: dict[UUID, list[LiaisonRead]] = {m.id: [] for m in members}
    for liaison in liaisons:
        by_member[liaison.member_id].append(liaison_read(who, cipher, _columns(repository.LIAISONS, liaison)))
        if _sees_contacts(who, liaison.member_id):  # a read of a person's contacts in full is audited
            uow.record("liaison.contacts_read", "liaison", liaison.id, liaison.division_code, via="directory")
    entries = [
        MemberDirectoryEntry(**MemberRead.model_validate(m).model_dump(), liaisons=by_member[m.id])
        for m in members
    ]
    return CommitteeDirectory.model_validate(
        {**_columns(repository.COMMITTEES, committee), "members": entries}
    )


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    updated_since: datetime | None,
) -> Sequence[RowMapping]:
    return await repository.page(
        uow.session, who, after=after, limit=limit + 1, within=within, updated_since=updated_since
    )
