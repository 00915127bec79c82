"""HTTP for the notification inbox."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from accountability.notifications import service
from accountability.notifications.schemas import NotificationPage, NotificationRead
from dudao.errors import problems
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor

router = transactional_router(prefix="/v1/notifications", tags=["notifications"])


@router.get("", response_model=NotificationPage)
async def list_notifications(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    recipient_id: Annotated[str | None, Query(max_length=200, description="A unit id or department")] = None,
    unread: Annotated[bool, Query(description="Only those not yet read")] = False,
) -> NotificationPage:
    """The inbox, newest first: a unit sees what is addressed to it, an office its jurisdiction's."""
    rows = await service.page(
        uow, who, before=decode_cursor(cursor), limit=limit, recipient_id=recipient_id, unread=unread
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(n) for n in rows[:limit]],
        next_cursor=next_cursor([n.id for n in rows], limit),
    )


@router.post(
    "/{notification_id}/read",
    response_model=NotificationRead,
    responses=problems(service.NotificationNotFound, service.NotTheRecipient),
)
async def mark_read(notification_id: UUID, uow: UoW, who: CurrentPrincipal) -> NotificationRead:
    """Mark a notification read (by its recipient); marking it again changes nothing."""
    return NotificationRead.model_validate(await service.mark_read(uow, who, notification_id))
