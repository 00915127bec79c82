"""The work-plan clock: an office without this year's work plan after its due date becomes a fact."""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.config import Settings
from dudao.scheduler import ScheduledJob, scheduled
from dudao.uow import UnitOfWork
from governance.filing import service


def jobs(settings: Settings | None = None) -> list[ScheduledJob]:
    due = (settings or Settings.for_service("governance")).filing_work_plan_due

    @scheduled(every=timedelta(hours=1), name="filing-work-plan-missing")
    async def notice_missing(uow: UnitOfWork, now: datetime) -> int:
        return await service.notice_missing_work_plans(uow, now.astimezone(BUSINESS_TZ).date(), due)

    return [notice_missing]
