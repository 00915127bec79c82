"""The rules of special and emergency supervision. No SQL, no commit.

Both run the one supervision procedure (``governance.supervisions``): a special supervision opens with
its topic's checklist; an emergency supervision opens at once, with no advance notice, and its team's
first report is due within ``emergency_first_report_hours``. A report not filed in time is one
``EmergencyReportOverdue`` fact, on which accountability urges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.contracts.governance import EmergencyReportOverdue
from dudao.divisions.tree import DivisionTree
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.evidence import service as evidence
from dudao.ids import uuid7
from dudao.jurisdiction import require_visible
from dudao.supervision.models import Supervision, SupervisionKind
from dudao.supervision.schemas import ChecklistItem, SupervisionCreate
from dudao.uow import UnitOfWork
from governance.special import repository
from governance.special.models import EmergencySupervision, SpecialTopic
from governance.special.schemas import (
    EmergencyCreate,
    FirstReportCreate,
    SpecialSupervisionCreate,
    TopicCreate,
    TopicUpdate,
)
from governance.supervisions import supervisions

# What every emergency supervision looks into, unless the office gives its own checklist.
EMERGENCY_CHECKLIST = [
    ChecklistItem(code="E1", text="事件经过、伤亡和损失情况核实"),
    ChecklistItem(code="E2", text="应急预案启动和现场处置情况"),
    ChecklistItem(code="E3", text="师生安置、救治和心理疏导情况"),
    ChecklistItem(code="E4", text="信息报送和舆情应对情况"),
    ChecklistItem(code="E5", text="责任落实、隐患排查和整改情况"),
]
EMERGENCY_DAYS = 14  # the on-site work, unless the office says otherwise
OVERDUE_BATCH = 200


class TopicNotFound(NotFound):
    type = "special-topic-not-found"
    title = "No such special supervision topic"


class TopicCodeTaken(Conflict):
    type = "special-topic-code-taken"
    title = "Your office already has a topic with this code"


class NotTheTopicOwner(Forbidden):
    type = "not-the-topic-owner"
    title = "Only the office that defined a topic changes it; seeded topics do not change"


class EmergencyNotFound(NotFound):
    type = "emergency-supervision-not-found"
    title = "No such emergency supervision"


class FirstReportFiled(Conflict):
    type = "first-report-filed"
    title = "The first report was already filed"


class InvalidEmergency(InvalidInput):
    type = "invalid-emergency-supervision"
    title = "The emergency supervision is not consistent"


def _above(divisions: DivisionTree, who: Principal) -> list[str]:
    return [d.code for d in divisions.path(who.division)[:-1]]


# --- topics ---------------------------------------------------------------------------------------------


async def define_topic(uow: UnitOfWork, who: Principal, body: TopicCreate) -> dict[str, Any]:
    _unique_codes(body.checklist)
    now = uow.clock.now()
    row = {
        "id": uuid7(),
        "code": body.code,
        "name": body.name,
        "description": body.description,
        "checklist": [c.model_dump() for c in body.checklist],
        "division_code": who.division,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_topic(uow, row, taken=TopicCodeTaken(f"Your office has a topic {body.code} already"))
    uow.record("special_topic.defined", "special_topic", row["id"], who.division, code=body.code)
    return row


def _unique_codes(checklist: Sequence[ChecklistItem]) -> None:
    codes = [c.code for c in checklist]
    if len(set(codes)) != len(codes):
        raise field_error(InvalidEmergency, "checklist", "the item codes must be unique")


async def get_topic(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, topic_id: UUID, *, for_update: bool = False
) -> SpecialTopic:
    topic = await repository.get_topic(
        uow.session, who, _above(divisions, who), topic_id, for_update=for_update
    )
    if topic is None:
        raise TopicNotFound(f"Special supervision topic {topic_id} does not exist")
    return topic


async def page_topics(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, **filters: Any
) -> Sequence[SpecialTopic]:
    return await repository.page_topics(uow.session, who, _above(divisions, who), **filters)


async def update_topic(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    topic_id: UUID,
    if_match: str | None,
    body: TopicUpdate,
) -> SpecialTopic:
    topic = await get_topic(uow, who, divisions, topic_id, for_update=True)
    if topic.division_code != who.division:
        raise NotTheTopicOwner(f"Topic {topic.code} is not your office's own")
    require_match(if_match, topic.id, topic.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return topic
    if body.checklist is not None:
        _unique_codes(body.checklist)
    changes |= {"version": topic.version + 1, "updated_at": uow.clock.now()}
    repository.update_topic(uow, {"id": topic.id, **changes})
    uow.record("special_topic.updated", "special_topic", topic.id, who.division, changes=sorted(changes))
    for name, value in changes.items():
        setattr(topic, name, value)
    return topic


async def open_special(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, topic_id: UUID, body: SpecialSupervisionCreate
) -> Supervision:
    """A special supervision (kind special) on the topic, with the topic's checklist."""
    topic = await get_topic(uow, who, divisions, topic_id)
    create = SupervisionCreate(
        kind=SupervisionKind.SPECIAL,
        title=body.title,
        topic=topic.code,
        unit_ids=body.unit_ids,
        plan=body.plan,
        checklist=[ChecklistItem.model_validate(c) for c in topic.checklist],
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )
    return await supervisions.service.open(uow, who, divisions, create, ref=f"special-topic:{topic.id}")


# --- emergencies ----------------------------------------------------------------------------------------


async def open_emergency(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: EmergencyCreate, report_hours: int
) -> tuple[EmergencySupervision, Supervision]:
    """Open the supervision at once (no notice), set its team on site when one is given, and start the
    first report's clock."""
    now = uow.clock.now()
    if body.occurred_at > now:
        raise field_error(InvalidEmergency, "occurred_at", "is in the future")
    today = uow.clock.today()
    emergency_id = uuid7()
    supervision = await supervisions.service.open(
        uow,
        who,
        divisions,
        SupervisionCreate(
            kind=SupervisionKind.EMERGENCY,
            title=body.incident,
            unit_ids=body.unit_ids,
            plan=body.plan,
            checklist=body.checklist or EMERGENCY_CHECKLIST,
            starts_on=today,
            ends_on=body.ends_on or today + timedelta(days=EMERGENCY_DAYS),
        ),
        ref=f"emergency:{emergency_id}",
    )
    if body.team is not None:
        await supervisions.service.set_team(uow, who, supervision.id, body.team)
        supervision = await supervisions.service.start_on_site(uow, who, supervision.id)
    row: dict[str, Any] = {
        "id": emergency_id,
        "supervision_id": supervision.id,
        "division_code": supervision.division_code,
        "office_division": who.division,
        "incident": body.incident,
        "description": body.description,
        "occurred_at": body.occurred_at,
        "opened_at": now,
        "report_due_at": now + timedelta(hours=report_hours),
        "first_report": None,
        "first_report_evidence_ids": [],
        "first_reported_by": None,
        "first_reported_at": None,
        "overdue_noticed_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repository.add_emergency(uow, row)
    uow.record(
        "emergency_supervision.opened",
        "emergency_supervision",
        emergency_id,
        supervision.division_code,
        supervision_id=str(supervision.id),
        report_due_at=row["report_due_at"].isoformat(),
    )
    return EmergencySupervision(**row), supervision


async def get_emergency(
    uow: UnitOfWork, who: Principal, emergency_id: UUID, *, for_update: bool = False
) -> EmergencySupervision:
    missing = EmergencyNotFound(f"Emergency supervision {emergency_id} does not exist")
    return await require_visible(
        uow.session, who, EmergencySupervision, emergency_id, missing, for_update=for_update
    )


async def page_emergencies(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[EmergencySupervision]:
    return await repository.page_emergencies(uow.session, who, **filters)


async def file_first_report(
    uow: UnitOfWork, who: Principal, emergency_id: UUID, if_match: str | None, body: FirstReportCreate
) -> EmergencySupervision:
    """The team's first report (首报), once; after its deadline it is still taken, and stays late."""
    emergency = await get_emergency(uow, who, emergency_id, for_update=True)
    require_match(if_match, emergency.id, emergency.version)
    if emergency.first_reported_at is not None:
        raise FirstReportFiled(f"The first report was filed at {emergency.first_reported_at}")
    await evidence.require_usable(uow, who, body.evidence_ids)
    now = uow.clock.now()
    changes = {
        "first_report": body.text,
        "first_report_evidence_ids": body.evidence_ids,
        "first_reported_by": who.sub,
        "first_reported_at": now,
        "version": emergency.version + 1,
        "updated_at": now,
    }
    repository.update_emergency(uow, [{"id": emergency.id, **changes}])
    uow.record(
        "emergency_supervision.first_report",
        "emergency_supervision",
        emergency.id,
        emergency.division_code,
        late=now > emergency.report_due_at,
    )
    for name, value in changes.items():
        setattr(emergency, name, value)
    return emergency


async def notice_overdue(uow: UnitOfWork, now: datetime) -> int:
    """One ``EmergencyReportOverdue`` per supervision whose first report is late (claimed, derived id)."""
    late = await repository.claim_overdue(uow.session, now, OVERDUE_BATCH)
    repository.update_emergency(
        uow,
        [{"id": e.id, "overdue_noticed_at": now, "version": e.version + 1, "updated_at": now} for e in late],
    )
    uow.emit_all(
        EmergencyReportOverdue(
            division=e.division_code,
            supervision_id=str(e.supervision_id),
            office_division=e.office_division,
            incident=e.incident,
            opened_at=e.opened_at,
            report_due_at=e.report_due_at,
        )
        for e in late
    )
    for e in late:
        uow.record("emergency_supervision.report_overdue", "emergency_supervision", e.id, e.division_code)
    return len(late)
