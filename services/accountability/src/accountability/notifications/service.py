"""Who hears of what: the unit and its competent department, which is jointly liable (RULES.md §5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from accountability.notifications import repository
from accountability.notifications.models import NOTIFICATIONS, Notification, RecipientKind
from dudao.auth.principal import Principal
from dudao.errors import Forbidden, NotFound
from dudao.ids import uuid7
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


@dataclass(frozen=True)
class Notice:
    """One message to a unit and, if it has one, its competent department: under ``department_id`` if
    given (a supervision office reads its inbox as ``office:<division>``), else under its name."""

    to: Recipients
    title: str
    body: str
    case_id: UUID | None
    step_id: UUID | None
    department_id: str | None = None


def notify_all(uow: UnitOfWork, notices: Iterable[Notice]) -> None:
    """Hand over the notifications of ``notices``, in order, as one write."""
    now = uow.clock.now()
    rows: list[dict[str, object]] = []
    for n in notices:
        recipients = [(n.to.unit_id, RecipientKind.UNIT)]
        if n.to.competent_department:
            department = n.department_id or n.to.competent_department
            recipients.append((department, RecipientKind.COMPETENT_DEPARTMENT))
        rows += (
            {
                # Time-ordered in the order given, which is the order an inbox shows them in.
                "id": uuid7(),
                "recipient_id": recipient_id,
                "recipient_kind": kind,
                "division_code": n.to.division_code,
                "title": n.title,
                "body": n.body,
                "case_id": n.case_id,
                "step_id": n.step_id,
                "created_at": now,
            }
            for recipient_id, kind in recipients
        )
    uow.insert(NOTIFICATIONS, rows)


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
