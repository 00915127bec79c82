"""HTTP for special-supervision topics and emergency supervisions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Response

from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, InvalidCursor, Limit, UpdatedSince, decode_cursor, page_of
from dudao.supervision import service as supervision_rules
from dudao.supervision.schemas import SupervisionDetail
from governance.special import service
from governance.special.models import EmergencySupervision, SpecialTopic
from governance.special.schemas import (
    EmergencyCreate,
    EmergencyOpened,
    EmergencyPage,
    EmergencyRead,
    FirstReportCreate,
    SpecialSupervisionCreate,
    TopicCreate,
    TopicPage,
    TopicRead,
    TopicUpdate,
)
from governance.unit.service import SupervisedUnitNotFound

router = transactional_router(tags=["special and emergency supervision"])

_OPEN_PROBLEMS = (  # what opening its supervision may answer, its units unknown among them
    SupervisedUnitNotFound,
    supervision_rules.InvalidSupervision,
    supervision_rules.TeamTooSmall,
    supervision_rules.InspectorIneligible,
    supervision_rules.InspectorRecused,
)


def _topic(topic: SpecialTopic | dict[str, Any], status: int = 200) -> Response:
    read = TopicRead.model_validate(topic)
    headers = {"ETag": etag(read.id, read.version)}
    if status == 201:
        headers["Location"] = f"/v1/special-topics/{read.id}"
    return json_model(read, status, headers)


def _emergency(emergency: EmergencySupervision) -> Response:
    return json_model(
        EmergencyRead.model_validate(emergency), headers={"ETag": etag(emergency.id, emergency.version)}
    )


@router.post(
    "/v1/special-topics",
    status_code=201,
    response_model=TopicRead,
    responses=problems(service.TopicCodeTaken, service.InvalidEmergency),
)
async def define_topic(body: TopicCreate, uow: UoW, who: Office) -> Response:
    """A special-supervision topic of your office's own, with its checklist, for you and the offices
    below you."""
    return _topic(await service.define_topic(uow, who, body), 201)


@router.get("/v1/special-topics", response_model=TopicPage, responses=problems(InvalidCursor))
async def list_topics(
    uow: UoW,
    who: Inspecting,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    updated_since: UpdatedSince = None,
) -> TopicPage:
    """The topics you may use: the seeded hot topics (减负, 违规补课, 民办学校招生收费, 校外培训机构,
    学生安全), those of the offices above you, and those within your jurisdiction."""
    rows = await service.page_topics(
        uow, who, rt.divisions, after=decode_cursor(cursor), limit=limit + 1, updated_since=updated_since
    )
    return page_of(TopicPage, TopicRead, rows, limit)


@router.get(
    "/v1/special-topics/{topic_id}", response_model=TopicRead, responses=problems(service.TopicNotFound)
)
async def get_topic(topic_id: UUID, uow: UoW, who: Inspecting, rt: Rt) -> Response:
    return _topic(await service.get_topic(uow, who, rt.divisions, topic_id))


@router.patch(
    "/v1/special-topics/{topic_id}",
    response_model=TopicRead,
    responses=problems(
        service.TopicNotFound, service.NotTheTopicOwner, PreconditionFailed, PreconditionRequired
    ),
)
async def update_topic(
    topic_id: UUID, body: TopicUpdate, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """Change your office's own topic (seeded topics do not change). Send ``If-Match``."""
    return _topic(await service.update_topic(uow, who, rt.divisions, topic_id, if_match, body))


@router.post(
    "/v1/special-topics/{topic_id}/supervisions",
    status_code=201,
    response_model=SupervisionDetail,
    responses=problems(service.TopicNotFound, *_OPEN_PROBLEMS),
)
async def open_special(
    topic_id: UUID, body: SpecialSupervisionCreate, uow: UoW, who: Office, rt: Rt
) -> Response:
    """Open a special supervision (专项督导) on the topic: a supervision of kind ``special`` with the
    topic's checklist, run through the supervision procedure at ``/v1/supervisions/{id}``."""
    supervision = await service.open_special(uow, who, rt.divisions, topic_id, body)
    headers = {
        "Location": f"/v1/supervisions/{supervision.id}",
        "ETag": etag(supervision.id, supervision.version),
    }
    return json_model(SupervisionDetail.model_validate(supervision), 201, headers)


@router.post(
    "/v1/emergency-supervisions",
    status_code=201,
    response_model=EmergencyOpened,
    responses=problems(service.InvalidEmergency, *_OPEN_PROBLEMS),
)
async def open_emergency(body: EmergencyCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Open the emergency supervision of a major incident at once (no advance notice); with ``team``, the
    team is set and on site in the same step. The team's first report is due within
    ``DUDAO_EMERGENCY_FIRST_REPORT_HOURS`` (24 by default); a late one is escalated."""
    hours = rt.settings.emergency_first_report_hours
    emergency, supervision = await service.open_emergency(uow, who, rt.divisions, body, hours)
    opened = EmergencyOpened(
        **EmergencyRead.model_validate(emergency).model_dump(),
        supervision=SupervisionDetail.model_validate(supervision),
    )
    headers = {
        "Location": f"/v1/emergency-supervisions/{emergency.id}",
        "ETag": etag(emergency.id, emergency.version),
    }
    return json_model(opened, 201, headers)


@router.get("/v1/emergency-supervisions", response_model=EmergencyPage, responses=problems(InvalidCursor))
async def list_emergencies(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> EmergencyPage:
    rows = await service.page_emergencies(
        uow, who, after=decode_cursor(cursor), limit=limit + 1, within=within, updated_since=updated_since
    )
    return page_of(EmergencyPage, EmergencyRead, rows, limit)


@router.get(
    "/v1/emergency-supervisions/{emergency_id}",
    response_model=EmergencyRead,
    responses=problems(service.EmergencyNotFound),
)
async def get_emergency(emergency_id: UUID, uow: UoW, who: Inspecting) -> Response:
    return _emergency(await service.get_emergency(uow, who, emergency_id))


@router.post(
    "/v1/emergency-supervisions/{emergency_id}/first-report",
    response_model=EmergencyRead,
    responses=problems(
        service.EmergencyNotFound, service.FirstReportFiled, PreconditionFailed, PreconditionRequired
    ),
)
async def file_first_report(
    emergency_id: UUID, body: FirstReportCreate, uow: UoW, who: Inspecting, if_match: IfMatch = None
) -> Response:
    """The team's first report (首报) on the incident, once. Send ``If-Match``."""
    return _emergency(await service.file_first_report(uow, who, emergency_id, if_match, body))
