"""Who hears of what: the unit and its competent department, which is jointly liable (RULES.md §5)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from accountability.notifications import repository
from accountability.notifications.models import Notification, RecipientKind
from dudao.auth.principal import Principal
from dudao.errors import Forbidden, NotFound
from dudao.uow import UnitOfWork


class NotificationNotFound(NotFound):
    type = "notification-not-found"
    title = "No such notification"


class NotTheRecipient(Forbidden):
    type = "not-the-recipient"
    title = "Only the recipient marks a notification read"


class Recipients(Protocol):
    @property
    def unit_id(self) -> str: ...
    @property
    def competent_department(self) -> str | None: ...
    @property
    def division_code(self) -> str: ...


async def notify(
    uow: UnitOfWork,
    to: Recipients,
    title: str,
    body: str,
    *,
    case_id: UUID | None,
    step_id: UUID | None,
    department_id: str | None = None,
) -> None:
    """Tell the unit and, if it has one, its competent department: under ``department_id`` if given (a
    supervision office reads its inbox as ``office:<division>``), else under the department's name."""
    recipients = [(to.unit_id, RecipientKind.UNIT)]
    if to.competent_department:
        recipients.append((department_id or to.competent_department, RecipientKind.COMPETENT_DEPARTMENT))
    now = uow.clock.now()
    await repository.add_all(
        uow.session,
        [
            Notification(
                recipient_id=recipient_id,
                recipient_kind=kind,
                division_code=to.division_code,
                title=title,
                body=body,
                case_id=case_id,
                step_id=step_id,
                created_at=now,
            )
            for recipient_id, kind in recipients
        ],
    )


async def mark_read(uow: UnitOfWork, who: Principal, notification_id: UUID) -> Notification:
    """Only the recipient itself says it has read a notice; marking twice keeps the first time."""
    notification = await repository.get_visible(uow.session, who, notification_id, for_update=True)
    if notification is None:
        raise NotificationNotFound(f"Notification {notification_id} does not exist")
    if who.org != notification.recipient_id:
        raise NotTheRecipient(f"This notification is addressed to {notification.recipient_id}")
    if notification.read_at is None:
        notification.read_at = uow.clock.now()
        notification.read_by = who.sub
        await uow.session.flush()
        uow.record("notification.read", "notification", notification.id, notification.division_code)
    return notification


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    before: UUID | None,
    limit: int,
    recipient_id: str | None,
    unread: bool,
) -> list[Notification]:
    return await repository.page(
        uow.session, who, before=before, limit=limit + 1, recipient_id=recipient_id, unread=unread
    )
