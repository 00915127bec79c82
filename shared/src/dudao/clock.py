"""The one clock. Everything that asks "what time is it" asks this, so tests and the demo can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """Real time plus an offset; ``advance`` moves it forward for tests and demos."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        """The business date in Asia/Shanghai."""
        return self.now().astimezone(BUSINESS_TZ).date()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def set(self, instant: datetime) -> None:
        self._offset = instant - datetime.now(UTC)

    def set_offset(self, offset: timedelta) -> None:
        """Take the suite's offset (see ``dudao.clock_sync``), so every process tells the same time."""
        self._offset = offset

    @property
    def offset(self) -> timedelta:
        return self._offset


clock = Clock()
