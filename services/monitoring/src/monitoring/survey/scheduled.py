"""Surveys' timed work: the counties' rates published every night, the rate limiter's old windows
forgotten every hour."""

from __future__ import annotations

from datetime import datetime, timedelta

from dudao.clock import BUSINESS_TZ
from dudao.scheduler import scheduled
from dudao.uow import UnitOfWork
from monitoring.survey import service
from monitoring.warning.scheduled import NIGHT_HOUR

# A window is counted in for its length at most; a day covers any window the settings allow in practice.
KEEP_WINDOWS = timedelta(days=1)


@scheduled(every=timedelta(hours=1), name="survey-rates-nightly")
async def publish_rates(uow: UnitOfWork, now: datetime) -> int:
    """This year's rate of every county with answers, as its ``recognition.4_1`` (a rerun rewrites it)."""
    local = now.astimezone(BUSINESS_TZ)
    if local.hour != NIGHT_HOUR:
        return 0
    return await service.publish_all(uow, local.year)


@scheduled(every=timedelta(hours=1), name="survey-client-windows")
async def forget_windows(uow: UnitOfWork, now: datetime) -> int:
    return await service.forget_windows(uow, now, KEEP_WINDOWS)
