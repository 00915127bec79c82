"""Every query of the holiday calendar and of the suite's clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.calendar.models import CalendarDay, CalendarYear, ClockOffset, ProvisionalDeadlineAllowance

DayRow = tuple[date, bool, str | None]  # day, working, name


async def years(session: AsyncSession) -> list[CalendarYear]:
    return list((await session.execute(select(CalendarYear).order_by(CalendarYear.year))).scalars())


async def known_years(session: AsyncSession) -> set[int]:
    return set((await session.execute(select(CalendarYear.year))).scalars())


async def days_between(session: AsyncSession, first: date, last: date) -> list[CalendarDay]:
    """The known days from ``first`` to ``last``, inclusive, in order; days of unknown years are absent."""
    stmt = (
        select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last).order_by(CalendarDay.day)
    )
    return list((await session.execute(stmt)).scalars())


async def working_flags(session: AsyncSession, first: date, last: date) -> dict[date, bool]:
    """Whether each known day from ``first`` to ``last`` (inclusive) is a working day."""
    stmt = select(CalendarDay.day, CalendarDay.working).where(
        CalendarDay.day >= first, CalendarDay.day <= last
    )
    return {row.day: row.working for row in await session.execute(stmt)}


async def add_year_if_absent(
    session: AsyncSession, year: int, source: str, published_at: datetime, published_by: str
) -> bool:
    """Record ``year`` unless it is known already; whether it was added (a concurrent twin waits here)."""
    stmt = (
        insert(CalendarYear)
        .values(year=year, source=source, published_at=published_at, published_by=published_by)
        .on_conflict_do_nothing(index_elements=[CalendarYear.year])
        .returning(CalendarYear.year)
    )
    return (await session.execute(stmt)).first() is not None


async def put_year(
    session: AsyncSession, year: int, source: str, published_at: datetime, published_by: str
) -> tuple[CalendarYear, bool]:
    """Record or overwrite ``year`` (locking it until commit); whether it was known before."""
    known = await session.get(CalendarYear, year, with_for_update=True)
    values = insert(CalendarYear).values(
        year=year, source=source, published_at=published_at, published_by=published_by
    )
    upsert = values.on_conflict_do_update(
        index_elements=[CalendarYear.year],
        set_={
            "source": values.excluded.source,
            "published_at": values.excluded.published_at,
            "published_by": values.excluded.published_by,
        },
    ).returning(CalendarYear)
    row = (await session.execute(upsert, execution_options={"populate_existing": True})).scalar_one()
    return row, known is not None


async def replace_days(session: AsyncSession, year: int, days: Sequence[DayRow]) -> None:
    await session.execute(
        delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    await add_days(session, days)


async def add_days(session: AsyncSession, days: Sequence[DayRow]) -> None:
    if days:
        await session.execute(
            insert(CalendarDay),
            [{"day": day, "working": working, "name": name} for day, working, name in days],
        )


async def allowed_years(session: AsyncSession, divisions: Sequence[str]) -> set[int]:
    """The years in which any of ``divisions`` allowed provisional deadlines."""
    stmt = select(ProvisionalDeadlineAllowance.year).where(
        ProvisionalDeadlineAllowance.division_code.in_(list(divisions))
    )
    return set((await session.execute(stmt)).scalars())


async def get_allowance(
    session: AsyncSession, division_code: str, year: int
) -> ProvisionalDeadlineAllowance | None:
    return await session.get(ProvisionalDeadlineAllowance, (division_code, year), with_for_update=True)


async def add_allowance(
    session: AsyncSession, allowance: ProvisionalDeadlineAllowance
) -> ProvisionalDeadlineAllowance:
    session.add(allowance)
    await session.flush()
    return allowance


async def remove_allowance(session: AsyncSession, allowance: ProvisionalDeadlineAllowance) -> None:
    await session.delete(allowance)
    await session.flush()


async def clock_offset(session: AsyncSession) -> ClockOffset | None:
    return (await session.execute(select(ClockOffset))).scalar_one_or_none()


async def advance_clock(session: AsyncSession, seconds: float, when: datetime, who: str) -> ClockOffset:
    """Move the offset forward by ``seconds`` in one statement, so concurrent moves add up."""
    values = insert(ClockOffset).values(
        id=1, offset_seconds=seconds, version=1, updated_at=when, updated_by=who
    )
    upsert = values.on_conflict_do_update(
        index_elements=[ClockOffset.id],
        set_={
            "offset_seconds": ClockOffset.offset_seconds + values.excluded.offset_seconds,
            "version": ClockOffset.version + 1,
            "updated_at": values.excluded.updated_at,
            "updated_by": values.excluded.updated_by,
        },
    ).returning(ClockOffset)
    row: ClockOffset = (
        await session.execute(upsert, execution_options={"populate_existing": True})
    ).scalar_one()
    return row
