"""The emergency supervisions' clock: a first report not filed in time becomes one fact.

Due rows are claimed FOR UPDATE SKIP LOCKED and marked noticed, and the event id derives from
(supervision, deadline), so any number of scheduler replicas emit each fact once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.scheduler import ScheduledJob, scheduled
from dudao.uow import UnitOfWork
from governance.special import service


@scheduled(every=timedelta(minutes=1), name="emergency-report-overdue", drain=True)
async def notice_overdue(uow: UnitOfWork, now: datetime) -> int:
    """One ``EmergencyReportOverdue`` per emergency supervision whose first report is late."""
    return await service.notice_overdue(uow, now)


def jobs() -> list[ScheduledJob]:
    return [notice_overdue]
