"""Accountability on the suite's real PostgreSQL and NATS: its app over HTTP, and its event handlers
applied in a real unit of work the way the consumer runner applies them (without the inbox, so that a
test can prove what the data alone guarantees)."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal
from uuid import UUID

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from accountability.db import SCHEMA, kit
from accountability.documents.models import Document
from accountability.escalation.models import EscalationCase, EscalationLadder, EscalationStep
from accountability.main import spec
from accountability.notifications.models import Notification
from dudao.auth.tokens import issue_dev_token
from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.inspection import SchoolVisitsBehind
from dudao.contracts.rectification import RectificationEvent, event_for
from dudao.db import session_factory
from dudao.events.catalog import Event
from dudao.events.consumer import Consumer, ConsumerRunner
from dudao.events.envelope import CloudEvent
from dudao.events.nats import STREAM, connect
from dudao.events.relay import publish_envelope
from dudao.http.app import create_service_app
from dudao.ids import uuid7
from dudao.numbering.models import DocumentSequence, IssuingOffice
from dudao.uow import UnitOfWork
from tests.conftest import bearer, random_school_code, serve
from tests.kit.events.support import eventually, running

COUNTY_A, COUNTY_B, CITY = "450102", "450103", "450100"  # 兴宁区, 青秀区, 南宁市
REGION = "450000"
# Every accountability consumer is set-based: it takes a round of events.
QUICK_RETRIES = [0.2, 0.5, 1.0, 2.0]
HANDLERS = {c.event_type: c.handle_many for c in spec.consumers if c.handle_many is not None}


@pytest.fixture(scope="session")
def engine(engine: AsyncEngine) -> AsyncEngine:
    """The suite's engine with the kit's schemaless tables (numbering's) in accountability's schema, as the
    service's own engine has them."""
    return engine.execution_options(schema_translate_map={None: SCHEMA})


@pytest.fixture(scope="session")
async def accountability(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_service_app(spec, settings)) as client:
        yield client


@dataclass
class RecordingUnitOfWork(UnitOfWork):
    """A unit of work that keeps what was emitted, also past the flush that ends each round."""

    emitted: list[CloudEvent] = field(default_factory=list)

    def emit(self, event: Event) -> CloudEvent:
        envelope = super().emit(event)
        self.emitted.append(envelope)
        return envelope


@dataclass
class Desk:
    """Applies events with accountability's own handlers, one transaction each, as rounds of one."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=Clock)

    def uow(self, session: AsyncSession) -> RecordingUnitOfWork:
        return RecordingUnitOfWork(session, kit, spec.event_source, self.clock)

    async def deliver(self, event: Event) -> list[CloudEvent]:
        """Apply ``event`` and commit; return what the handler emitted."""
        return await self.deliver_all([event])

    async def open(self, *rectifications: Rectification) -> None:
        """Deliver the rectifications' openings, as their origins publish them when they are required: a
        later fact of a rectification accountability never saw opened is not obeyed."""
        await self.deliver_all([r.event("opened") for r in rectifications])

    async def deliver_all(self, events: Sequence[Event]) -> list[CloudEvent]:
        """Apply ``events`` (of one type, each subject once) as one round in one transaction, and commit;
        return what the handler emitted. Nothing is written if the handler fails."""
        async with self.sessions() as session:
            uow = self.uow(session)
            await HANDLERS[events[0].event_type](events, uow)
            await uow.commit()
        return uow.emitted


@pytest.fixture
def desk(engine: AsyncEngine) -> Desk:
    return Desk(session_factory(engine))


@pytest.fixture
async def js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    assert settings.nats_url
    nc = await connect(settings.nats_url, "tests-accountability")
    yield nc.jetstream()
    await nc.close()


async def publish(js: JetStreamContext, event: Event, event_id: UUID) -> None:
    envelope = CloudEvent(
        id=str(event_id),
        source=f"/dudao/{event.source_service()}",
        type=event.event_type,
        subject=event.subject(),
        time=Clock().now(),
        data=event.model_dump(mode="json"),
        division=event.division,
    )
    await publish_envelope(js, event.event_type, envelope.model_dump(mode="json"), msg_id=str(event_id))


async def consume(
    js: JetStreamContext,
    engine: AsyncEngine,
    settings: Settings,
    consumers: list[Consumer],
    *,
    workers: int = 1,
    within: float = 20.0,
) -> None:
    """Run ``consumers`` in ``workers`` runners side by side (replicas sharing the durables) until they have
    nothing left to do, then delete them.

    Retries come quickly: a fact that overtook its opening (on another durable) is obeyed soon after it,
    and one whose rectification was never opened here (another test's, on the stream) is dead-lettered."""
    sessions = session_factory(engine)
    quick = settings.model_copy(update={"consumer_max_deliver": 5, "consumer_backoff_seconds": QUICK_RETRIES})
    runners = [
        ConsumerRunner(sessions, kit, js, consumers, spec.event_source, Clock(), quick)
        for _ in range(workers)
    ]
    try:
        async with contextlib.AsyncExitStack() as stack:
            for runner in runners:
                await stack.enter_async_context(running(runner))

            async def settled() -> bool:
                try:
                    infos = [await js.consumer_info(STREAM, c.durable) for c in consumers]
                except NotFoundError:  # the runners have not created them yet
                    return False
                return all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos)

            await eventually(settled, within=within, what="the consumers settled")
    finally:
        for c in consumers:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(STREAM, c.durable)


def own(*event_types: str) -> list[Consumer]:
    """Durables of this test's own, so that the service's durables keep their place on the stream."""
    token = secrets.token_hex(4)
    return [
        dataclasses.replace(c, durable=f"{token}-{c.durable}")
        for c in spec.consumers
        if c.event_type in event_types
    ]


@dataclass
class Rectification:
    """One rectification as its originating service describes it in every event."""

    division: str = COUNTY_A
    office: str = COUNTY_A
    origin: str = "school-inspection"
    category: str = "school_safety"
    competent_department: str | None = "兴宁区教育局"
    deadline: date = field(default_factory=lambda: Clock().today() - timedelta(days=1))
    id: str = field(default_factory=lambda: str(uuid7()))
    unit_id: str = field(default_factory=lambda: f"school-{secrets.token_hex(4)}")

    def event(self, kind: str, **overrides: Any) -> RectificationEvent:
        extras: dict[str, dict[str, Any]] = {
            "opened": {"requirement": "完善校园安全管理制度"},
            "due_soon": {"days_before": 7},
            "rejected": {"report_id": str(uuid7()), "reasons": "整改佐证材料不全"},
            "accepted": {"report_id": str(uuid7())},
            "reopened": {"recheck_id": str(uuid7()), "notes": "复查发现问题反弹"},
        }
        fields: dict[str, Any] = {
            "division": self.division,
            "origin": self.origin,
            "rectification_id": self.id,
            "finding_id": f"finding-{self.id}",
            "category": self.category,
            "severity": "major",
            "unit_id": self.unit_id,
            "unit_kind": "school",
            "unit_name": "南宁市兴宁区测试小学",
            "competent_department": self.competent_department,
            "office_division": self.office,
            "deadline": self.deadline,
            "provisional_deadline": False,
            **extras.get(kind, {}),
            **overrides,
        }
        return event_for(self.origin, kind)(**fields)


async def case_of(engine: AsyncEngine, rectification: Rectification) -> EscalationCase | None:
    async with session_factory(engine)() as session:
        stmt = select(EscalationCase).where(EscalationCase.rectification_id == rectification.id)
        return (await session.execute(stmt)).scalar_one_or_none()


async def steps_of(engine: AsyncEngine, case_id: UUID) -> list[EscalationStep]:
    async with session_factory(engine)() as session:
        stmt = (
            select(EscalationStep)
            .options(selectinload(EscalationStep.document))
            .where(EscalationStep.case_id == case_id)
            .order_by(EscalationStep.index)
        )
        return list((await session.execute(stmt)).scalars())


async def outbox(engine: AsyncEngine, event_type: str, **data: str) -> list[dict[str, Any]]:
    """The envelopes of ``event_type`` in accountability's outbox whose data match ``data``."""
    stmt = select(kit.outbox.c.envelope).where(kit.outbox.c.type == event_type).order_by(kit.outbox.c.seq)
    for key, value in data.items():
        stmt = stmt.where(kit.outbox.c.envelope["data"][key].astext == value)
    async with engine.connect() as conn:
        return [row[0] for row in await conn.execute(stmt)]


async def written(engine: AsyncEngine) -> tuple[int, ...]:
    """Row counts of everything a write could touch: to prove a refused request wrote nothing."""
    models = [EscalationLadder, EscalationCase, EscalationStep, Document, IssuingOffice, Notification]
    tables = [m.__table__ for m in models] + [kit.outbox, kit.audit_log]
    async with engine.connect() as conn:
        counts = [(await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in tables]
        serials = select(func.coalesce(func.sum(DocumentSequence.last_serial), 0))
        counts.append((await conn.execute(serials)).scalar_one())
    return tuple(counts)


def person(settings: Settings, *roles: str, division: str, org: str | None = None) -> dict[str, str]:
    """Headers of a person with ``roles`` at ``division`` (a unit names its organisation in ``org``)."""
    tok = issue_dev_token(
        settings,
        sub=f"user-{secrets.token_hex(3)}",
        name="测试用户",
        roles=list(roles),
        division=division,
        org=org,
    )
    return bearer(tok)


async def escalated(
    desk: Desk, engine: AsyncEngine, rectification: Rectification, steps: int = 1
) -> EscalationCase:
    """The case after ``steps`` overdue facts, each after the originating service moved the deadline (and
    after its opening, if accountability has not seen it yet)."""
    if await case_of(engine, rectification) is None:
        await desk.open(rectification)
    for _ in range(steps):
        await desk.deliver(rectification.event("overdue"))
        rectification.deadline += timedelta(days=1)
    case = await case_of(engine, rectification)
    assert case is not None
    return case


async def documents_of(
    accountability: httpx.AsyncClient, case_id: UUID, headers: dict[str, str]
) -> list[Any]:
    response = await accountability.get(f"/v1/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    documents: list[Any] = response.json()["documents"]
    return documents


@dataclass
class School:
    """A school of county A as school-inspection describes it when it falls behind."""

    id: str = field(default_factory=lambda: str(uuid7()))
    code: str = field(default_factory=random_school_code)
    name: str = field(default_factory=lambda: f"兴宁区测试小学{secrets.token_hex(2)}")

    def behind(self, checkpoint: Literal["midpoint", "end"], visits: int = 0) -> SchoolVisitsBehind:
        return SchoolVisitsBehind(
            division=COUNTY_A,
            school_id=self.id,
            school_code=self.code,
            school_name=self.name,
            semester="2026-spring",
            semester_start=date(2026, 2, 1),
            semester_end=date(2026, 7, 31),
            checkpoint=checkpoint,
            checkpoint_date=date(2026, 5, 2) if checkpoint == "midpoint" else date(2026, 8, 1),
            visits=visits,
            required=2,
        )


async def notices(engine: AsyncEngine, school: School) -> list[Notification]:
    """The notifications that name the school."""
    async with session_factory(engine)() as session:
        stmt = select(Notification).where(Notification.body.contains(school.code)).order_by(Notification.id)
        return list((await session.execute(stmt)).scalars())


async def steps_on(engine: AsyncEngine, event: SchoolVisitsBehind) -> list[EscalationStep]:
    """The steps the fact triggered (one at most), with their documents."""
    async with session_factory(engine)() as session:
        stmt = (
            select(EscalationStep)
            .options(selectinload(EscalationStep.document).selectinload(Document.urging_order))
            .where(EscalationStep.trigger_event_id == event.event_id())
        )
        return list((await session.execute(stmt)).scalars())
