"""Working days follow the State Council's calendar; a year without one is refused, never guessed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import chinese_calendar
import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dudao.auth.principal import Principal, Role
from dudao.calendar import repository, service
from dudao.calendar.models import CalendarDay, CalendarYear, ProvisionalDeadlineAllowance
from dudao.calendar.schemas import NamedDay
from dudao.clock import Clock
from dudao.common.models import common_kit
from dudao.db import session_factory
from dudao.uow import UnitOfWork

ADMIN = Principal(sub="admin-1", name="管理员", roles=frozenset({Role.PLATFORM_ADMIN}), division="450000")
# Years no other test publishes or allows: each test below owns one.
UNKNOWN_YEAR = 2041
ALLOWED_YEAR = 2042


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back at the end of the test."""
    async with session_factory(engine)() as s:
        yield s
        await s.rollback()


def package_deadline(start: date, days: int) -> date:
    """The deadline straight from chinese_calendar: ``days`` working days after ``start``."""
    due = start
    while days:
        due += timedelta(days=1)
        if chinese_calendar.is_workday(due):
            days -= 1
    return due


def _uow(session: AsyncSession) -> UnitOfWork:
    return UnitOfWork(session, common_kit, "/dudao/tests", Clock())


@contextmanager
def counted_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_working_days_skip_national_day_and_mid_autumn_and_count_the_adjusted_saturday(
    session: AsyncSession,
) -> None:
    # 2025: 1–8 October off (国庆节, 中秋 on the 6th); Saturday 11 October is a working day (调休).
    assert await service.add_working_days(session, date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert await service.add_working_days(session, date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert await service.add_working_days(session, date(2025, 9, 30), 4) == date(2025, 10, 13)
    # Sunday 28 September is a working day too.
    assert await service.add_working_days(session, date(2025, 9, 26), 1) == date(2025, 9, 28)
    deadline = await service.compute_deadline(
        session, start=date(2025, 9, 30), days=3, kind="working", office_division="450102"
    )
    assert deadline == service.Deadline(due=date(2025, 10, 11), provisional=False)


async def test_working_days_agree_with_chinese_calendar_around_the_2025_golden_week(
    session: AsyncSession,
) -> None:
    for offset in range(30):
        start = date(2025, 9, 15) + timedelta(days=offset)
        for days in (1, 2, 3, 5, 8, 13, 40):
            expected = package_deadline(start, days)
            assert await service.add_working_days(session, start, days) == expected, (start, days)


async def test_calendar_day_deadlines_count_every_day_and_are_never_provisional(
    session: AsyncSession,
) -> None:
    deadline = await service.compute_deadline(
        session, start=date(2025, 9, 30), days=10, kind="calendar", office_division="450102"
    )
    assert deadline == service.Deadline(due=date(2025, 10, 10), provisional=False)
    far = await service.compute_deadline(
        session, start=date(UNKNOWN_YEAR, 3, 1), days=30, kind="calendar", office_division="450102"
    )
    assert far == service.Deadline(due=date(UNKNOWN_YEAR, 3, 31), provisional=False)


async def test_a_deadline_in_a_year_without_holiday_data_is_refused_naming_the_year(
    session: AsyncSession,
) -> None:
    with pytest.raises(service.CalendarYearUnknown) as refused:
        await service.compute_deadline(
            session, start=date(UNKNOWN_YEAR - 1, 12, 20), days=15, kind="working", office_division="450102"
        )
    # The first day needed lies in the year before: that year is named first.
    assert refused.value.extensions == {"year": UNKNOWN_YEAR - 1}
    with pytest.raises(service.CalendarYearUnknown) as strict:
        await service.add_working_days(session, date(UNKNOWN_YEAR, 3, 1), 5)
    assert str(UNKNOWN_YEAR) in strict.value.detail
    assert "publish" in strict.value.detail
    assert "provisional" in strict.value.detail


async def test_an_allowance_makes_deadlines_provisional_in_its_jurisdiction_only(
    session: AsyncSession,
) -> None:
    nanning = Principal(
        sub="office-4501", name="南宁督导办", roles=frozenset({Role.SUPERVISION_OFFICE}), division="450100"
    )
    await service.allow_provisional(_uow(session), nanning, "450100", ALLOWED_YEAR)
    start = date(ALLOWED_YEAR, 3, 7)  # a Friday: 10 weekdays later is Friday 21 March
    for office in ("450100", "450102"):
        deadline = await service.compute_deadline(
            session, start=start, days=10, kind="working", office_division=office
        )
        assert deadline == service.Deadline(due=date(ALLOWED_YEAR, 3, 21), provisional=True)
    for outside in ("450000", "450200", "450202"):
        with pytest.raises(service.CalendarYearUnknown):
            await service.compute_deadline(
                session, start=start, days=10, kind="working", office_division=outside
            )
    # Without an office there is no allowance: the kit's strict helper still refuses.
    with pytest.raises(service.CalendarYearUnknown):
        await service.add_working_days(session, start, 10)


async def test_a_provisional_deadline_skips_the_holidays_whose_dates_never_move(
    session: AsyncSession,
) -> None:
    year = 2058  # 1 January, 1–2 May and 1–3 October all fall on weekdays
    nanning = Principal(
        sub="office-4501", name="南宁督导办", roles=frozenset({Role.SUPERVISION_OFFICE}), division="450100"
    )
    await service.allow_provisional(_uow(session), nanning, "450100", year)

    async def due(start: date, days: int) -> service.Deadline:
        return await service.compute_deadline(
            session, start=start, days=days, kind="working", office_division="450102"
        )

    # Monday 31 December: the next working day is not 元旦 but Wednesday 2 January.
    assert await due(date(year - 1, 12, 31), 1) == service.Deadline(date(year, 1, 2), provisional=True)
    # Tuesday 30 April: 劳动节 takes Wednesday 1 and Thursday 2 May.
    assert await due(date(year, 4, 30), 1) == service.Deadline(date(year, 5, 3), provisional=True)
    # Monday 30 September: 国庆节 takes Tuesday 1 to Thursday 3 October; five working days end on the 10th.
    assert await due(date(year, 9, 30), 1) == service.Deadline(date(year, 10, 4), provisional=True)
    assert await due(date(year, 9, 30), 5) == service.Deadline(date(year, 10, 10), provisional=True)


async def test_a_deadline_reads_the_calendar_once_for_its_whole_range(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    await session.execute(select(1))  # the connection is checked out before counting
    with counted_queries(engine) as statements:
        due = await service.add_working_days(session, date(2025, 1, 2), 200)
    assert due == package_deadline(date(2025, 1, 2), 200)
    assert len(statements) == 1, statements


async def test_publishing_a_year_fills_every_day_and_replaces_a_previous_publication(
    session: AsyncSession,
) -> None:
    year = 2043
    uow = _uow(session)
    await service.publish_year(
        uow,
        ADMIN,
        year,
        [NamedDay(date=date(year, 1, 1), name="元旦"), NamedDay(date=date(year, 1, 2), name="元旦")],
        [NamedDay(date=date(year, 1, 3), name="调休上班")],  # a Saturday
    )
    days = {
        d.day: (d.working, d.name)
        for d in await repository.days_between(session, date(year, 1, 1), date(year, 12, 31))
    }
    assert len(days) == 365
    assert days[date(year, 1, 1)] == (False, "元旦")
    assert days[date(year, 1, 3)] == (True, "调休上班")
    assert days[date(year, 1, 4)] == (False, None)  # a plain Sunday
    assert days[date(year, 1, 5)] == (True, None)
    assert [e.type for e in uow.pending_events] == ["dudao.common.calendar.year_published.v1"]

    # An administrator's correction: the second publication replaces the first.
    await service.publish_year(uow, ADMIN, year, [NamedDay(date=date(year, 1, 5), name="临时放假")], [])
    corrected = await repository.days_between(session, date(year, 1, 1), date(year, 1, 5))
    assert [(d.day.day, d.working) for d in corrected] == [
        (1, True),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
    ]
    assert year in await service.known_years(session)
    assert len(uow.pending_events) == 2


async def test_seeding_is_idempotent_and_never_overwrites_an_administrator(session: AsyncSession) -> None:
    assert await service.seed_from_package(session) == []
    # Take two of the package's years away; an administrator republishes one of them.
    await session.execute(delete(CalendarDay).where(func.extract("year", CalendarDay.day).in_([2004, 2005])))
    await session.execute(delete(CalendarYear).where(CalendarYear.year.in_([2004, 2005])))
    await service.publish_year(_uow(session), ADMIN, 2004, [NamedDay(date=date(2004, 1, 1), name="元旦")], [])

    assert await service.seed_from_package(session) == [2005]
    years = {y.year: y.source for y in await service.list_years(session)}
    assert (years[2004], years[2005]) == ("administrator", "chinese-calendar")
    assert min(years) == 2004
    assert max(years) >= 2026
    assert len(await repository.days_between(session, date(2005, 1, 1), date(2005, 12, 31))) == 365


async def test_an_office_cannot_allow_outside_its_jurisdiction_nor_for_a_known_year(
    session: AsyncSession,
) -> None:
    liuzhou = Principal(
        sub="office-4502", name="柳州督导办", roles=frozenset({Role.SUPERVISION_OFFICE}), division="450200"
    )
    with pytest.raises(service.AllowanceOutsideJurisdiction):
        await service.allow_provisional(_uow(session), liuzhou, "450100", 2044)
    with pytest.raises(service.CalendarYearKnown):
        await service.allow_provisional(_uow(session), liuzhou, "450200", 2025)
    with pytest.raises(service.AllowanceNotFound):
        await service.revoke_provisional(_uow(session), liuzhou, "450200", 2044)
    allowances = await session.execute(
        select(ProvisionalDeadlineAllowance).where(ProvisionalDeadlineAllowance.year == 2044)
    )
    assert allowances.first() is None


async def test_a_deadline_beyond_its_first_read_reads_on(session: AsyncSession, engine: AsyncEngine) -> None:
    year = 2044
    closed = [date(year, 1, 1) + timedelta(days=n) for n in range(121)]  # 1 January to 30 April off
    await service.publish_year(
        _uow(session), ADMIN, year, [NamedDay(date=d, name="停课") for d in closed], []
    )
    with counted_queries(engine) as statements:
        due = await service.add_working_days(session, date(year, 1, 1), 5)
    assert due == date(year, 5, 6)  # Monday 2 May is the first working day
    assert len(statements) > 1
