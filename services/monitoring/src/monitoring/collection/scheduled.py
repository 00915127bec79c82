"""The collection clock: reminders before a task is due, and findings at the units that let it pass.

Tasks are locked FOR UPDATE SKIP LOCKED and each fact is claimed on its task (``reminded_days``,
``overdue_noticed_at``) in the transaction that emits it; a reminder's event id derives from (task,
unit, due date, day), so any number of schedulers remind each unit once per day and raise each finding
once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.scheduler import ScheduledJob, scheduled
from dudao.uow import UnitOfWork
from monitoring.collection import service


@scheduled(every=timedelta(hours=1), name="collection-reminders")
async def remind(uow: UnitOfWork, now: datetime) -> int:
    """One ``CollectionDueSoon`` per task, unit that has not submitted, and reminder day reached."""
    return await service.remind(uow, now.astimezone(BUSINESS_TZ).date())


@scheduled(every=timedelta(hours=1), name="collection-overdue", drain=True)
async def notice_overdue(uow: UnitOfWork, now: datetime) -> int:
    """A finding at each unit that had not submitted when a task's deadline passed, a batch of tasks at a
    time."""
    return await service.notice_overdue(uow, now.astimezone(BUSINESS_TZ).date())


def jobs() -> list[ScheduledJob]:
    return [remind, notice_overdue]
