"""The nightly early-warning run over the year's approved values.

Checked every hour, it runs in the night hour only (business time); alert ids derive from the fact, so
a second run or a second scheduler in that hour adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.scheduler import scheduled
from dudao.uow import UnitOfWork
from monitoring.warning import service

NIGHT_HOUR = 2  # 02:00–02:59, Asia/Shanghai: after the day's approvals, before offices start


@scheduled(every=timedelta(hours=1), name="warning-nightly")
async def nightly(uow: UnitOfWork, now: datetime) -> int:
    """The alerts the rules raise over this year's and last year's approved values."""
    local = now.astimezone(BUSINESS_TZ)
    if local.hour != NIGHT_HOUR:
        return 0
    return await service.nightly(uow, local.date())
