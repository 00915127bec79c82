"""Timed work: jobs that find due rows and emit the facts they notice (due soon, overdue …).

A job runs in one transaction with a fresh unit of work and ``now`` from the clock. It locks the rows it
handles ``FOR UPDATE SKIP LOCKED`` and emits events whose ids are derived from the fact, which the outbox
stores once: any number of schedulers can run the same jobs. A failing job is logged and tried again at
the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.contextvars import bound_contextvars

from dudao.audit import AuditKeys
from dudao.clock import Clock
from dudao.config import Settings
from dudao.ids import uuid7
from dudao.tables import KitTables
from dudao.uow import SYSTEM, Actor, UnitOfWork

Job = Callable[[UnitOfWork, datetime], Awaitable[int]]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every: timedelta
    run: Job
    # A draining job handles a bounded batch per run and runs again at once while it finds work, so a
    # backlog (a day on which 100,000 deadlines pass) clears in batch-sized transactions, not one per tick.
    # It must never count a row it leaves due, or it would run for ever.
    drain: bool = False


def scheduled(*, every: timedelta, name: str, drain: bool = False) -> Callable[[Job], ScheduledJob]:
    """Declare a timed job; it returns how many facts it handled."""
    if every <= timedelta(0):
        raise ValueError(f"job {name}: every must be positive")

    def register(job: Job) -> ScheduledJob:
        return ScheduledJob(name=name, every=every, run=job, drain=drain)

    return register


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        kit: KitTables,
        jobs: Sequence[ScheduledJob],
        source: str,
        clock: Clock,
        settings: Settings,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self._sessions = sessions
        self._kit = kit
        self._jobs = list(jobs)
        self._source = source
        self._clock = clock
        self._tick_seconds = settings.scheduler_tick_seconds
        self._notify = notify
        self._audit_keys = AuditKeys.from_settings(settings)

    async def run(self, stop: asyncio.Event) -> None:
        """Run each job at start and then every ``job.every``, checking every tick, until ``stop`` is set."""
        next_run = {job.name: 0.0 for job in self._jobs}
        while not stop.is_set():
            for job in self._jobs:
                started = time.monotonic()
                if stop.is_set() or started < next_run[job.name]:
                    continue
                try:
                    while await self.run_once(job) and job.drain and not stop.is_set():
                        pass
                except Exception:  # the job stays due, so the next tick retries it
                    log.exception("scheduled job failed", job=job.name)
                else:
                    next_run[job.name] = started + job.every.total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._tick_seconds)

    async def run_once(self, job: ScheduledJob) -> int:
        """Run ``job`` once in its own transaction; return how many facts it handled."""
        run_id = str(uuid7())
        actor = Actor(id=SYSTEM.id, kind=SYSTEM.kind, request_id=run_id)
        with bound_contextvars(job=job.name, correlation_id=run_id):
            # Leaving the session without a commit rolls everything back.
            async with self._sessions() as session:
                uow = UnitOfWork(
                    session,
                    self._kit,
                    self._source,
                    self._clock,
                    actor,
                    notify=self._notify,
                    audit_keys=self._audit_keys,
                )
                handled = await job.run(uow, self._clock.now())
                await uow.commit()
            if handled:
                log.info("scheduled job ran", handled=handled)
            return handled
