"""Supervisions in tests, for either service that mounts the capability: inspectors appointed in
school-inspection and delivered to a service's projection the way its consumers take them, bodies of
supervisions and the procedure's steps."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dudao.clock import clock
from dudao.db import session_factory
from dudao.events.catalog import Event, event_class
from dudao.supervision import Capability
from dudao.tables import KitTables
from dudao.uow import UnitOfWork
from school_inspection.db import kit as inspection_kit
from tests.school_inspection.inspectors.support import appoint

Headers = dict[str, str]
INSPECTOR_FACTS = "dudao.school-inspection.inspector.%"


def day(offset: int) -> str:
    return str(clock.today() + timedelta(days=offset))


async def deliver_inspector_facts(
    engine: AsyncEngine, kit: KitTables, capability: Capability, inspector_ids: list[str]
) -> None:
    """school-inspection's inspector events about these inspectors, from its outbox, handed to the
    capability's consumers in one transaction of the service's schema (``engine``), as the runner does."""
    outbox = inspection_kit.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.type, outbox.c.envelope)
            .where(
                outbox.c.type.like(INSPECTOR_FACTS),
                outbox.c.envelope["data"]["inspector_id"].astext.in_(inspector_ids),
            )
            .order_by(outbox.c.seq)
        )
    by_type: dict[str, list[Event]] = defaultdict(list)
    for event_type, envelope in rows:
        by_type[event_type].append(event_class(event_type).model_validate(envelope["data"]))
    uow = UnitOfWork(session=session_factory(engine)(), kit=kit, source="/tests", clock=clock)
    try:
        for consumer in capability.consumers:
            if by_type.get(consumer.event_type) and consumer.handle_many is not None:
                await consumer.handle_many(by_type[consumer.event_type], uow)
        await uow.commit()
    finally:
        await uow.session.close()


async def appointed_inspectors(
    inspection: httpx.AsyncClient, office: Headers, division: str, count: int = 3, **overrides: Any
) -> list[dict[str, Any]]:
    return [await appoint(inspection, office, division, **overrides) for _ in range(count)]


def supervision_body(unit_ids: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "comprehensive",
        "title": "2026年度综合督导",
        "unit_ids": unit_ids,
        "plan": "听取汇报、查阅资料、实地查看、座谈走访。",
        "checklist": [
            {"code": "1.1", "text": "落实教育优先发展战略"},
            {"code": "1.2", "text": "教育经费投入与管理"},
        ],
        "starts_on": day(3),
        "ends_on": day(5),
        **overrides,
    }


def team(inspectors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "members": [
            {"inspector_id": i["id"], "role": "leader" if n == 0 else "member"}
            for n, i in enumerate(inspectors)
        ]
    }


MEETING = {
    "mode": "meeting",
    "text": "逐项反馈督导发现的问题。",
    "attendance": [
        {"body": "discipline_inspection", "name": "赵纪", "post": "副书记", "attended": True},
        {"body": "organisation_department", "name": "钱组", "post": "副部长", "attended": True},
        {"body": "performance_office", "name": "孙绩", "post": "主任", "attended": False},
    ],
}


def assert_problem(response: httpx.Response, status: int, type_slug: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"urn:dudao:problem:{type_slug}", problem
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
