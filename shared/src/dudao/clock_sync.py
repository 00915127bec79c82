"""One clock across processes, so that tests and the demo can make a deadline pass in the whole suite.

Only with ``clock_adjustable`` (never in production). The offset from real time is one row,
``common.clock_offset``. Moving the clock updates that row and writes a ``ClockMoved`` event to the
common outbox in one transaction; a worker's relay publishes it, and every process, API or worker,
hears it on a core subscription and sets its clock. Each process also re-reads the row every few
seconds, in case it missed the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import date, datetime, timedelta

import structlog
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dudao.auth.principal import Principal
from dudao.calendar import repository
from dudao.calendar.events import ClockMoved
from dudao.calendar.models import ClockOffset
from dudao.clock import Clock
from dudao.config import Settings
from dudao.errors import Forbidden, InvalidInput
from dudao.schemas import StrictModel
from dudao.uow import UnitOfWork

POLL_SECONDS = 3.0
log = structlog.get_logger(__name__)


class ClockNotAdjustable(Forbidden):
    type = "clock-not-adjustable"
    title = "This deployment's clock cannot be moved"


class ClockRead(BaseModel):
    now: datetime = Field(description="The time as this process sees it (UTC)")
    business_date: date = Field(description="Today in Asia/Shanghai, the date deadlines are in")
    offset_seconds: float = Field(description="How far ahead of real time the clock is")
    adjustable: bool

    @classmethod
    def of(cls, clock: Clock, adjustable: bool) -> ClockRead:
        return cls(
            now=clock.now(),
            business_date=clock.today(),
            offset_seconds=clock.offset.total_seconds(),
            adjustable=adjustable,
        )


class ClockAdvance(StrictModel):
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=24 * 3650)

    @model_validator(mode="after")
    def _forward(self) -> ClockAdvance:
        if not self.days and not self.hours:
            raise ValueError("move the clock forward by at least one day or one hour")
        return self

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)


def ensure_allowed(settings: Settings) -> None:
    """Refuse to start a production process whose clock could be moved."""
    if settings.production and settings.clock_adjustable:
        raise RuntimeError("DUDAO_CLOCK_ADJUSTABLE must not be set in production")


async def advance(uow: UnitOfWork, who: Principal, delta: timedelta, settings: Settings) -> ClockOffset:
    """Move the suite's clock forward by ``delta``; every process follows once the relay publishes it."""
    if not settings.clock_adjustable or settings.production:
        raise ClockNotAdjustable(
            "Only a development, test or demo deployment (DUDAO_CLOCK_ADJUSTABLE) moves time"
        )
    if delta <= timedelta(0):
        raise InvalidInput("The clock only moves forward")
    row = await repository.advance_clock(uow.session, delta.total_seconds(), uow.clock.now(), who.sub)
    uow.record(
        "clock.advanced",
        "clock_offset",
        row.id,
        who.division,
        by_seconds=delta.total_seconds(),
        offset_seconds=row.offset_seconds,
        version=row.version,
    )
    uow.emit(ClockMoved(division=who.division, offset_seconds=row.offset_seconds, version=row.version))
    return row


class ClockSync:
    """Keeps one process's clock at the suite's offset: read at start, told by NATS, polled as a fallback."""

    def __init__(
        self, clock: Clock, sessions: async_sessionmaker[AsyncSession], *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._clock = clock
        self._sessions = sessions
        self._poll_seconds = poll_seconds
        self._version = -1

    def apply(self, offset_seconds: float, version: int) -> None:
        """Take the offset unless a later move is applied already (a message and a poll can cross)."""
        if version <= self._version:
            return
        self._version = version
        self._clock.set_offset(timedelta(seconds=offset_seconds))
        log.info("clock set", offset_seconds=offset_seconds, version=version)

    async def refresh(self) -> None:
        """Read the offset from the database; on failure, log and leave it to the next poll."""
        try:
            async with self._sessions() as session:
                row = await repository.clock_offset(session)
        except Exception:
            log.warning("could not read the clock offset", exc_info=True)
            return
        if row is None:
            self.apply(0.0, 0)
        else:
            self.apply(row.offset_seconds, row.version)

    async def subscribe(self, nc: Nats) -> None:
        # Core subscription: every process hears every move, unlike a shared durable consumer.
        await nc.subscribe(ClockMoved.event_type, cb=self._on_moved)

    async def _on_moved(self, msg: Msg) -> None:
        try:
            moved = ClockMoved.model_validate(json.loads(msg.data)["data"])
        except Exception:
            log.warning("unreadable clock event", exc_info=True)
            return
        self.apply(moved.offset_seconds, moved.version)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Re-read the offset every few seconds until ``stop`` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_seconds)
            if stop.is_set():
                return
            await self.refresh()
