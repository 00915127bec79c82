"""Every query about notifications."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from accountability.notifications.models import Notification
from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import visible_to


def _visible(who: Principal) -> Select[Notification]:
    return visible_to(select(Notification), who, Notification.division_code, Notification.recipient_id)


async def get_visible(
    session: AsyncSession, who: Principal, notification_id: UUID, *, for_update: bool = False
) -> Notification | None:
    stmt = _visible(who).where(Notification.id == notification_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    who: Principal,
    *,
    before: UUID | None,
    limit: int,
    recipient_id: str | None,
    unread: bool,
) -> list[Notification]:
    """Newest first, as an inbox reads."""
    stmt = _visible(who)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = pagination.page(
        stmt,
        Notification.id,
        after=before,
        limit=limit,
        equal=[(Notification.recipient_id, recipient_id)],
        newest_first=True,
    )
    return list((await session.execute(stmt)).scalars())
