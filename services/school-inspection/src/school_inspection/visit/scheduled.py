"""The routine-visit clock: schools that fell behind at a semester's midpoint or end become facts.

Schools are locked FOR NO KEY UPDATE SKIP LOCKED (visits can still be recorded meanwhile), each fact is
claimed once in ``visits_behind`` and its event id derives from (school, semester, checkpoint), so any
number of scheduler replicas emit each fact once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.scheduler import ScheduledJob, scheduled
from dudao.uow import UnitOfWork
from school_inspection.visit import service


@scheduled(every=timedelta(minutes=10), name="visits-behind")
async def notice_behind(uow: UnitOfWork, now: datetime) -> int:
    """One ``SchoolVisitsBehind`` fact per school, semester and checkpoint it fell behind at."""
    return await service.notice_behind(uow, now.astimezone(BUSINESS_TZ).date())


def jobs() -> list[ScheduledJob]:
    return [notice_behind]
