"""Every query about plates and complaint channels."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to
from school_inspection.plate.models import ComplaintChannel, Plate
from school_inspection.school.models import School


async def for_school(session: AsyncSession, school_id: UUID, *, for_update: bool = False) -> Plate | None:
    stmt = select(Plate).where(Plate.school_id == school_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, record: Plate | ComplaintChannel) -> None:
    session.add(record)
    await session.flush()


async def channel(
    session: AsyncSession, who: Principal | None, division_code: str, *, for_update: bool = False
) -> ComplaintChannel | None:
    """A county's channel; with ``who``, only within their jurisdiction."""
    stmt = select(ComplaintChannel).where(ComplaintChannel.division_code == division_code)
    if who is not None:
        stmt = visible_to(stmt, who, ComplaintChannel.division_code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def published(session: AsyncSession, school_code: str) -> tuple[Plate, School, ComplaintChannel] | None:
    """The published plate of a school, with the school and its county's complaint channel."""
    stmt = (
        select(Plate, School, ComplaintChannel)
        .join(School, School.id == Plate.school_id)
        .join(ComplaintChannel, ComplaintChannel.division_code == School.division_code)
        .where(School.school_code == school_code, Plate.published.is_(True))
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])
