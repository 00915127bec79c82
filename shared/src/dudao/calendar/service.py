"""The rules of the holiday calendar: working days, deadlines, publishing a year. No SQL here, no commit.

A year is known when it has a row in ``calendar_year``; then every one of its days is in
``calendar_day``. A deadline that needs a day of an unknown year is refused, never silently counted
as plain weekdays, unless the office allowed provisional deadlines for that year (RULES.md §6). A
provisional deadline counts Monday to Friday less the statutory holidays whose dates never move; the
lunar ones (春节, 清明, 端午, 中秋) and the year's swapped days (调休) wait for the State Council's notice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.calendar import repository
from dudao.calendar.events import CalendarSource, CalendarYearPublished
from dudao.calendar.models import FIRST_YEAR, LAST_YEAR, CalendarYear, ProvisionalDeadlineAllowance
from dudao.calendar.schemas import CalendarDayRead, CalendarDays, DeadlineKind, NamedDay
from dudao.clock import clock
from dudao.divisions.tree import level_of
from dudao.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from dudao.uow import UnitOfWork

MAX_DEADLINE_DAYS = 3650
MAX_RANGE_DAYS = 400
PACKAGE_SOURCE: CalendarSource = "chinese-calendar"
PACKAGE_PUBLISHER = "chinese-calendar"
_ONE_DAY = timedelta(days=1)
# The statutory holidays on fixed Gregorian dates (全国年节及纪念日放假办法, as revised by State Council
# decree 795 from 2025): 元旦 1 January, 劳动节 1–2 May, 国庆节 1–3 October.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


class CalendarYearUnknown(DomainError):
    status = 422
    type = "calendar-year-unknown"
    title = "No holiday calendar for that year yet"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"The holiday calendar of {year} has not been published: an administrator must publish it "
            f"(PUT /v1/calendar/years/{year}), or the supervision office must allow provisional "
            f"deadlines for {year}",
            year=year,
        )


class InvalidCalendar(InvalidInput):
    type = "invalid-calendar"
    title = "The holiday calendar is not valid"


class CalendarYearKnown(Conflict):
    type = "calendar-year-known"
    title = "That year's holiday calendar is published already"


class AllowanceOutsideJurisdiction(Forbidden):
    type = "allowance-outside-jurisdiction"
    title = "An office may allow provisional deadlines only within its jurisdiction"


class AllowanceExists(Conflict):
    type = "provisional-allowance-exists"
    title = "Provisional deadlines are allowed there already"


class AllowanceNotFound(NotFound):
    type = "provisional-allowance-not-found"
    title = "No such provisional deadline allowance"


@dataclass(frozen=True)
class Deadline:
    due: date
    provisional: bool


def _field_error(field: str, message: str, code: str) -> dict[str, str]:
    return {"field": field, "in": "body", "message": message, "code": code}


def _query_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "in": "query", "message": message, "code": "range"}


def _check_year(year: int, field: str = "year") -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidCalendar(
            f"{field} must lie between {FIRST_YEAR} and {LAST_YEAR}",
            errors=[_field_error(field, f"must lie between {FIRST_YEAR} and {LAST_YEAR}", "year_range")],
        )


def _check_count(days: int) -> None:
    if not 0 <= days <= MAX_DEADLINE_DAYS:
        message = f"must lie between 0 and {MAX_DEADLINE_DAYS}"
        raise InvalidInput(f"days {message}", errors=[_field_error("days", message, "range")])


def _ancestors(division: str) -> list[str]:
    """The division and the divisions above it: whoever of them allowed provisional deadlines covers it."""
    level = level_of(division)
    region, city = division[:2] + "0000", division[:4] + "00"
    return {"region": [region], "city": [division, region], "county": [division, city, region]}[level]


async def compute_deadline(
    session: AsyncSession, *, start: date, days: int, kind: DeadlineKind, office_division: str
) -> Deadline:
    """The deadline ``days`` calendar or working days after ``start`` (which does not count).

    Working days in a year with no holiday data are counted Monday to Friday less FIXED_HOLIDAYS, only where
    the office, or an office above it, allowed provisional deadlines for that year; otherwise
    CalendarYearUnknown.
    """
    _check_count(days)
    if kind == "calendar":
        return Deadline(due=start + timedelta(days=days), provisional=False)
    return await _working_deadline(session, start, days, _ancestors(office_division))


async def add_working_days(session: AsyncSession, start: date, days: int) -> date:
    """``days`` working days after ``start``; CalendarYearUnknown if a day needed lies in an unknown year."""
    _check_count(days)
    return (await _working_deadline(session, start, days, [])).due


async def _working_deadline(session: AsyncSession, start: date, days: int, offices: list[str]) -> Deadline:
    due, remaining, provisional = start, days, False
    allowed: set[int] | None = None  # read once, and only if a day of an unknown year is needed
    while remaining:
        # About 250 days in 365 are working days: 1.5 days per working day, plus the longest holiday,
        # hold every deadline since 2004 in one read; the loop reads on should one day not.
        last = due + timedelta(days=remaining * 3 // 2 + 14)
        working = await repository.working_flags(session, due + _ONE_DAY, last)
        while remaining and due < last:
            due += _ONE_DAY
            flag = working.get(due)
            if flag is None:
                if allowed is None:
                    allowed = await repository.allowed_years(session, offices) if offices else set()
                if due.year not in allowed:
                    raise CalendarYearUnknown(due.year)
                provisional, flag = True, due.weekday() < 5 and (due.month, due.day) not in FIXED_HOLIDAYS
            if flag:
                remaining -= 1
    return Deadline(due=due, provisional=provisional)


async def known_years(session: AsyncSession) -> set[int]:
    return await repository.known_years(session)


async def list_years(session: AsyncSession) -> list[CalendarYear]:
    return await repository.years(session)


async def days_between(session: AsyncSession, first: date, last: date) -> CalendarDays:
    if last < first:
        raise InvalidInput("to must not be before from", errors=[_query_error("to", "before from")])
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"At most {MAX_RANGE_DAYS} days at a time",
            errors=[_query_error("to", f"more than {MAX_RANGE_DAYS} days after from")],
        )
    rows = await repository.days_between(session, first, last)
    known = {row.day.year for row in rows}
    return CalendarDays(
        days=[CalendarDayRead(date=row.day, working=row.working, name=row.name) for row in rows],
        unknown_years=[y for y in range(first.year, last.year + 1) if y not in known],
    )


def _dates(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += _ONE_DAY


def _check_days(year: int, holidays: Sequence[NamedDay], adjusted: Sequence[NamedDay]) -> None:
    """Every date in ``year``, none listed twice, and only weekend days made working days."""
    errors: list[dict[str, str]] = []
    seen: dict[date, str] = {}
    for list_name, entries in (("holidays", holidays), ("adjusted_working_days", adjusted)):
        for index, entry in enumerate(entries):
            field = f"{list_name}.{index}.date"
            if entry.date.year != year:
                errors.append(_field_error(field, f"{entry.date} is not in {year}", "outside_year"))
            elif entry.date in seen:
                errors.append(
                    _field_error(field, f"{entry.date} is listed already at {seen[entry.date]}", "twice")
                )
            elif list_name == "adjusted_working_days" and entry.date.weekday() < 5:
                errors.append(
                    _field_error(
                        field, f"{entry.date} is a weekday: only weekend days are adjusted", "weekday"
                    )
                )
            seen.setdefault(entry.date, field)
    if errors:
        raise InvalidCalendar("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


def _year_of_days(
    year: int, holidays: Sequence[NamedDay], adjusted: Sequence[NamedDay]
) -> list[repository.DayRow]:
    """Every day of ``year``: weekends off unless adjusted, listed holidays off, the rest working."""
    off = {d.date: d.name for d in holidays}
    on = {d.date: d.name for d in adjusted}
    days: list[repository.DayRow] = []
    for day in _dates(year):
        if day in off:
            days.append((day, False, off[day]))
        elif day in on:
            days.append((day, True, on[day]))
        else:
            days.append((day, day.weekday() < 5, None))
    return days


async def publish_year(
    uow: UnitOfWork,
    who: Principal,
    year: int,
    holidays: Sequence[NamedDay],
    adjusted_working_days: Sequence[NamedDay],
) -> CalendarYear:
    """Publish (or correct) a year's holiday calendar from the State Council's notice, and announce it."""
    _check_year(year)
    _check_days(year, holidays, adjusted_working_days)
    row, replaced = await repository.put_year(uow.session, year, "administrator", uow.clock.now(), who.sub)
    await repository.replace_days(uow.session, year, _year_of_days(year, holidays, adjusted_working_days))
    uow.record(
        "calendar.year_published",
        "calendar_year",
        year,
        who.division,
        holidays=len(holidays),
        adjusted_working_days=len(adjusted_working_days),
        replaced=replaced,
    )
    uow.emit(CalendarYearPublished(division=who.division, year=year, source="administrator"))
    return row


def _package_years() -> list[int]:
    """The years chinese_calendar has data for (it refuses any other)."""
    known = [d.year for d in chinese_calendar.holidays]
    return list(range(min(known), max(known) + 1))


def _package_days(year: int) -> list[repository.DayRow]:
    days: list[repository.DayRow] = []
    for day in _dates(year):
        off, name = chinese_calendar.get_holiday_detail(day)
        label: str | None = chinese_calendar.Holiday(name).chinese if name else None
        if label is not None and not off:
            label = f"调休上班（{label}）"
        days.append((day, not off, label))
    return days


async def seed_from_package(session: AsyncSession) -> list[int]:
    """Fill every year chinese_calendar knows and the calendar does not; the years added.

    A year already known, an administrator's above all, is left as it is.
    """
    added = []
    for year in _package_years():
        if await repository.add_year_if_absent(session, year, PACKAGE_SOURCE, clock.now(), PACKAGE_PUBLISHER):
            await repository.add_days(session, _package_days(year))
            added.append(year)
    return added


async def seed(uow: UnitOfWork, who: Principal) -> list[int]:
    """``seed_from_package`` announcing each year added, as a newer package can bring next year's data."""
    added = await seed_from_package(uow.session)
    for year in added:
        uow.record("calendar.year_seeded", "calendar_year", year, who.division, source=PACKAGE_SOURCE)
        uow.emit(CalendarYearPublished(division=who.division, year=year, source=PACKAGE_SOURCE))
    return added


def _allowance_target(who: Principal, division_code: str, year: int) -> None:
    level_of(division_code)
    _check_year(year)
    if not who.can_see(division_code):
        raise AllowanceOutsideJurisdiction(f"{division_code} is outside your jurisdiction ({who.division})")


async def allow_provisional(
    uow: UnitOfWork, who: Principal, division_code: str, year: int
) -> ProvisionalDeadlineAllowance:
    """Let ``division_code``'s jurisdiction set provisional deadlines in ``year`` until it is published."""
    _allowance_target(who, division_code, year)
    if year in await repository.known_years(uow.session):
        raise CalendarYearKnown(
            f"The holiday calendar of {year} is published: its deadlines are never provisional"
        )
    if await repository.get_allowance(uow.session, division_code, year) is not None:
        raise AllowanceExists(f"{division_code} allows provisional deadlines in {year} already")
    allowance = await repository.add_allowance(
        uow.session,
        ProvisionalDeadlineAllowance(
            division_code=division_code, year=year, allowed_by=who.sub, allowed_at=uow.clock.now()
        ),
    )
    uow.record(
        "calendar.provisional_allowed",
        "provisional_deadline_allowance",
        f"{division_code}/{year}",
        division_code,
        year=year,
    )
    return allowance


async def revoke_provisional(uow: UnitOfWork, who: Principal, division_code: str, year: int) -> None:
    """Stop new provisional deadlines there; those already set stay provisional until publication."""
    level_of(division_code)
    # Another jurisdiction's allowance answers as if it did not exist.
    allowance = (
        await repository.get_allowance(uow.session, division_code, year)
        if who.can_see(division_code)
        else None
    )
    if allowance is None:
        raise AllowanceNotFound(f"{division_code} has no provisional deadline allowance for {year}")
    await repository.remove_allowance(uow.session, allowance)
    uow.record(
        "calendar.provisional_revoked",
        "provisional_deadline_allowance",
        f"{division_code}/{year}",
        division_code,
        year=year,
    )
