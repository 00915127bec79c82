"""Timed facts of rectifications: reminders before the deadline and the overdue fact when it passes.

Both claim due rows set-wise, FOR UPDATE SKIP LOCKED, and emit events whose ids derive from
(rectification, deadline, kind), so any number of scheduler replicas emit each fact once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from dudao.rectification.service import Rectifications
from dudao.scheduler import ScheduledJob, scheduled
from dudao.uow import UnitOfWork


def jobs(rectifications: Rectifications, settings: Settings) -> list[ScheduledJob]:
    days_before = list(settings.rectification_reminder_days)

    @scheduled(every=timedelta(seconds=5), name="rectification-overdue", drain=True)
    async def mark_overdue(uow: UnitOfWork, now: datetime) -> int:
        """Each deadline that passed without an accepted report becomes one overdue fact."""
        return await rectifications.mark_overdue(uow, now.astimezone(BUSINESS_TZ).date())

    @scheduled(every=timedelta(seconds=30), name="rectification-reminders", drain=True)
    async def remind(uow: UnitOfWork, now: datetime) -> int:
        """Reminders 7 days and 1 day before the deadline, by default (DUDAO_RECTIFICATION_REMINDER_DAYS)."""
        return await rectifications.remind(uow, now.astimezone(BUSINESS_TZ).date(), days_before)

    return [mark_overdue, remind]
