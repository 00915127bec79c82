"""``dudao calendar``: an administrator publishes the State Council's notice from a CSV file."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.calendar.models import CalendarDay, CalendarYear
from tests.kit.test_cli import dudao

YEAR = 2048  # no other test publishes it


async def test_publish_a_year_from_csv_and_list_it(engine: AsyncEngine, tmp_path: Path) -> None:
    notice = tmp_path / "2048.csv"
    notice.write_text(
        "date,name,working\n2048-01-01,元旦,0\n2048-02-13,春节,0\n2048-02-15,调休上班,1\n", encoding="utf-8"
    )
    published = await asyncio.to_thread(dudao, "calendar", "publish", str(YEAR), "--holidays", str(notice))
    assert published.returncode == 0, published.stderr
    assert "1 adjusted working days" in published.stdout

    listed = await asyncio.to_thread(dudao, "calendar", "years")
    assert f"{YEAR}  administrator" in listed.stdout
    assert "2025  chinese-calendar" in listed.stdout
    async with engine.connect() as conn:
        source = (
            await conn.execute(select(CalendarYear.source).where(CalendarYear.year == YEAR))
        ).scalar_one()
        saturday = (
            await conn.execute(
                select(CalendarDay.working, CalendarDay.name).where(CalendarDay.day == date(YEAR, 2, 15))
            )
        ).one()
    assert source == "administrator"
    assert tuple(saturday) == (True, "调休上班")


async def test_a_bad_csv_is_refused_and_publishes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    cases = {
        "date,name,working\n2049-01-01,元旦,2\n": "working must be 0",
        "date,name,working\n2049-13-01,元旦,0\n": "line 2",
        "date,name,working\n2050-01-01,元旦,0\n": "not in 2049",
    }
    for text, message in cases.items():
        notice = tmp_path / "bad.csv"
        notice.write_text(text, encoding="utf-8")
        refused = await asyncio.to_thread(dudao, "calendar", "publish", "2049", "--holidays", str(notice))
        assert refused.returncode == 2
        assert message in refused.stderr
    async with engine.connect() as conn:
        assert (await conn.execute(select(CalendarYear).where(CalendarYear.year == 2049))).first() is None
