"""HTTP for plates (挂牌督导): the public read for portals and QR codes, and the office's upkeep."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Path, Response

from dudao.divisions.tree import InvalidDivisionCode
from dudao.encryption import FieldCipher, field_cipher
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, PublicUoW, UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.runtime import Runtime
from school_inspection.plate import service
from school_inspection.plate.models import ComplaintChannel, Plate
from school_inspection.plate.schemas import ChannelRead, ChannelWrite, PlateRead, PlateWrite, PublicPlate
from school_inspection.school.schemas import SCHOOL_CODE_PATTERN
from school_inspection.school.service import SchoolNotFound

router = transactional_router(tags=["plates"])
CountyCode = Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$", description="A county-level division code")]
# How long portals and QR-code scans may cache a plate.
PUBLIC_MAX_AGE = 300


def _plate(rt: Runtime, plate: Plate, response: Response, created: bool = False) -> PlateRead:
    response.headers["ETag"] = etag(plate.id, plate.version)
    if created:
        response.status_code = 201
    columns = {c.key: getattr(plate, c.key) for c in Plate.__table__.columns}
    return PlateRead.model_validate({**columns, "contact_phone": service.contact_phone(_cipher(rt), plate)})


def _cipher(rt: Runtime) -> FieldCipher:
    return field_cipher(rt.settings)


def _channel(channel: ComplaintChannel, response: Response, created: bool = False) -> ChannelRead:
    response.headers["ETag"] = etag(channel.id, channel.version)
    if created:
        response.status_code = 201
    return ChannelRead.model_validate(channel)


@router.get("/v1/plates/{school_code}", response_model=PublicPlate, responses=problems(service.PlateNotFound))
async def read_plate(
    school_code: Annotated[str, Path(pattern=SCHOOL_CODE_PATTERN)],
    uow: PublicUoW,
    rt: Rt,
    response: Response,
) -> PublicPlate:
    """A school's published plate, without authentication: the responsible inspector's name, photo and
    phone (the school's current responsible inspector, unless the office chose whom the plate shows), the
    supervision items and the county's complaint channel. Nothing else about the inspector. 404 if none is
    published."""
    plate = await service.public_plate(uow, _cipher(rt), school_code)
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return plate


@router.put(
    "/v1/schools/{school_id}/plate",
    response_model=PlateRead,
    responses={
        201: {"description": "The plate was created"},
        **problems(SchoolNotFound, service.ChannelMissing, PreconditionFailed, PreconditionRequired),
    },
)
async def put_plate(
    school_id: UUID,
    body: PlateWrite,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> PlateRead:
    """Set what a school's plate shows (201 when new); replacing it needs ``If-Match``. Publishing needs
    the county's complaint channel. Leave out the inspector fields for the plate to show the school's
    current responsible inspector, following each assignment; give all three to show someone else."""
    plate, created = await service.put_plate(uow, who, _cipher(rt), school_id, if_match, body)
    return _plate(rt, plate, response, created)


@router.get(
    "/v1/schools/{school_id}/plate",
    response_model=PlateRead,
    responses=problems(SchoolNotFound, service.PlateNotFound),
)
async def get_plate(school_id: UUID, uow: UoW, who: Inspecting, rt: Rt, response: Response) -> PlateRead:
    """A school's plate, published or not, within your jurisdiction."""
    return _plate(rt, await service.get_plate(uow, who, school_id), response)


@router.put(
    "/v1/complaint-channels/{division_code}",
    response_model=ChannelRead,
    responses={
        201: {"description": "The channel was created"},
        **problems(
            InvalidDivisionCode, DivisionOutsideJurisdiction, PreconditionFailed, PreconditionRequired
        ),
    },
)
async def put_channel(
    division_code: CountyCode,
    body: ChannelWrite,
    uow: UoW,
    who: Office,
    response: Response,
    rt: Rt,
    if_match: IfMatch = None,
) -> ChannelRead:
    """Set a county's complaint channel (phone, URL or both), shown on its schools' plates (201 when new);
    replacing it needs ``If-Match``."""
    channel, created = await service.put_channel(uow, who, rt.divisions, division_code, if_match, body)
    return _channel(channel, response, created)


@router.get(
    "/v1/complaint-channels/{division_code}",
    response_model=ChannelRead,
    responses=problems(service.ChannelNotFound),
)
async def get_channel(
    division_code: CountyCode,
    uow: UoW,
    who: CurrentPrincipal,
    response: Response,
) -> ChannelRead:
    """A county's complaint channel, within your jurisdiction."""
    return _channel(await service.get_channel(uow, who, division_code), response)
