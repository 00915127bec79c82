"""The rules of plates and complaint channels. No SQL, no commit."""

from __future__ import annotations

from uuid import UUID

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree
from dudao.encryption import FieldCipher
from dudao.errors import Conflict, NotFound
from dudao.etag import require_match
from dudao.uow import UnitOfWork
from school_inspection.inspector import repository as inspectors
from school_inspection.inspector.service import phone_of
from school_inspection.plate import repository
from school_inspection.plate.models import ComplaintChannel, Plate
from school_inspection.plate.schemas import (
    ChannelWrite,
    PlateWrite,
    PublicChannel,
    PublicInspector,
    PublicItem,
    PublicPlate,
)
from school_inspection.school import service as schools
from school_inspection.visit.models import ITEM_LABELS, RoutineItem


class PlateNotFound(NotFound):
    type = "plate-not-found"
    title = "No such plate"


class ChannelNotFound(NotFound):
    type = "complaint-channel-not-found"
    title = "No complaint channel is set for this county"


class ChannelMissing(Conflict):
    type = "complaint-channel-missing"
    title = "Set the county's complaint channel before publishing a plate there"


# Associated data of the plate's sealed phone: a value copied into another column does not open there.
PHONE_CONTEXT = "inspection.plate.contact_phone"


def contact_phone(cipher: FieldCipher, plate: Plate) -> str | None:
    """The phone the office chose for the plate to show (public once published: neither masked nor
    audited)."""
    sealed = plate.contact_phone_sealed
    return None if sealed is None else cipher.decrypt(sealed, context=PHONE_CONTEXT)


def _show(cipher: FieldCipher, plate: Plate, body: PlateWrite) -> None:
    plate.inspector_name, plate.photo_url = body.inspector_name, body.photo_url
    phone = body.contact_phone
    plate.contact_phone_sealed = None if phone is None else cipher.encrypt(phone, context=PHONE_CONTEXT)
    plate.items = [i.value for i in body.items]
    plate.published = body.published


async def put_plate(
    uow: UnitOfWork,
    who: Principal,
    cipher: FieldCipher,
    school_id: UUID,
    if_match: str | None,
    body: PlateWrite,
) -> tuple[Plate, bool]:
    """The school's plate, set or replaced (replacing needs the ETag); True when it was created."""
    school = await schools.get(uow, who, school_id)
    plate = await repository.for_school(uow.session, school.id, for_update=True)
    if body.published and await repository.channel(uow.session, None, school.division_code) is None:
        raise ChannelMissing(f"PUT /v1/complaint-channels/{school.division_code} first")
    now = uow.clock.now()
    created = plate is None
    if plate is None:
        plate = Plate(school_id=school.id, division_code=school.division_code, created_at=now)
    else:
        require_match(if_match, plate.id, plate.version)
    _show(cipher, plate, body)
    plate.updated_by, plate.updated_at = who.sub, now
    if created:
        await repository.add(uow.session, plate)
    else:
        await uow.session.flush()
    uow.record(
        "plate.set",
        "plate",
        plate.id,
        plate.division_code,
        school_id=str(school.id),
        published=plate.published,
    )
    return plate, created


async def get_plate(uow: UnitOfWork, who: Principal, school_id: UUID) -> Plate:
    school = await schools.get(uow, who, school_id)
    plate = await repository.for_school(uow.session, school.id)
    if plate is None:
        raise PlateNotFound(f"School {school_id} has no plate yet")
    return plate


async def _shown_inspector(uow: UnitOfWork, cipher: FieldCipher, plate: Plate) -> PublicInspector | None:
    """The office's own choice, or else the school's responsible inspector today: nothing else of theirs."""
    chosen = contact_phone(cipher, plate)
    if plate.inspector_name is not None and chosen is not None:
        return PublicInspector(name=plate.inspector_name, photo_url=plate.photo_url, phone=chosen)
    inspector = await inspectors.responsible_inspector(uow.session, plate.school_id, on=uow.clock.today())
    if inspector is None:
        return None
    # The phone the plate publishes: public by design, so neither masked nor audited.
    phone = phone_of(cipher, inspector)
    return PublicInspector(name=inspector.name, photo_url=inspector.photo_url, phone=phone)


async def public_plate(uow: UnitOfWork, cipher: FieldCipher, school_code: str) -> PublicPlate:
    found = await repository.published(uow.session, school_code)
    if found is None:
        raise PlateNotFound(f"No published plate for school {school_code}")
    plate, school, channel = found
    return PublicPlate(
        school_code=school.school_code,
        school_name=school.name,
        responsible_inspector=await _shown_inspector(uow, cipher, plate),
        supervision_items=[
            PublicItem(code=RoutineItem(i), label=ITEM_LABELS[RoutineItem(i)]) for i in plate.items
        ],
        complaint_channel=PublicChannel(phone=channel.phone, url=channel.url),
        updated_at=max(plate.updated_at, channel.updated_at),
    )


async def put_channel(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    division_code: str,
    if_match: str | None,
    body: ChannelWrite,
) -> tuple[ComplaintChannel, bool]:
    """A county's complaint channel, set or replaced (replacing needs the ETag); True when created."""
    schools.require_within(divisions, who, division_code, county=True)
    channel = await repository.channel(uow.session, who, division_code, for_update=True)
    created = channel is None
    if channel is None:
        channel = ComplaintChannel(division_code=division_code)
    else:
        require_match(if_match, channel.id, channel.version)
    channel.phone, channel.url = body.phone, body.url
    channel.updated_by, channel.updated_at = who.sub, uow.clock.now()
    if created:
        await repository.add(uow.session, channel)
    else:
        await uow.session.flush()
    uow.record("complaint_channel.set", "complaint_channel", channel.id, division_code)
    return channel, created


async def get_channel(uow: UnitOfWork, who: Principal, division_code: str) -> ComplaintChannel:
    channel = await repository.channel(uow.session, who, division_code)
    if channel is None:
        raise ChannelNotFound(f"No complaint channel for {division_code}")
    return channel
