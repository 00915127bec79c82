"""Every query about self-supervision reports, always through the jurisdiction helper."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.auth.principal import Principal
from dudao.db import unique_violation
from dudao.jurisdiction import listed
from school_inspection.self_supervision.models import SelfSupervisionReport as Report


async def add(session: AsyncSession, report: Report) -> Report | None:
    """The report, or None if the school already reported on the semester (the constraint decides)."""
    session.add(report)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc, "uq_self_supervision_report_school_id_semester"):
            return None
        raise
    return report


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    school_id: UUID | None,
    semester: str | None,
    within: str | None,
    after: UUID | None,
    limit: int,
) -> list[Report]:
    stmt = listed(select(Report), who, Report.division_code, within)
    if school_id is not None:
        stmt = stmt.where(Report.school_id == school_id)
    if semester is not None:
        stmt = stmt.where(Report.semester == semester)
    if after is not None:
        stmt = stmt.where(Report.id > after)
    return list((await session.execute(stmt.order_by(Report.id).limit(limit))).scalars())
