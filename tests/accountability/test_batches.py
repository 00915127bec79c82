"""Escalation in batches: a batch of facts costs a fixed number of statements whatever its size, writes all
or nothing, and gives each fact one step and each document a number of its own, gapless, however many
workers share the sweep."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from accountability.db import kit
from accountability.documents.models import Document, DocumentKind
from accountability.escalation.models import EscalationCase, EscalationStep
from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.rectification import EscalationStepTaken
from dudao.db import create_engine, session_factory
from dudao.events.catalog import Event
from dudao.ids import uuid7
from dudao.numbering.models import DocumentSequence
from tests.accountability.conftest import (
    HANDLERS,
    Desk,
    Rectification,
    case_of,
    consume,
    own,
    publish,
    steps_of,
    written,
)


@asynccontextmanager
async def counted(session: AsyncSession) -> AsyncIterator[list[str]]:
    """The statements ``session`` sends meanwhile: those SQLAlchemy executes (``before_cursor_execute``)
    and the unit of work's set-based writes, which go to the asyncpg connection directly (its query
    logger)."""
    statements: list[str] = []
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def logged(query: Any) -> None:
        # Not asyncpg's own look-up of types it has not met yet on this connection (a fresh one, when an
        # earlier test ended the pooled ones): those are the driver's, once per connection, not the batch's.
        if "typeinfo_tree" not in query.query and "'jit'" not in query.query:
            statements.append(query.query)

    event.listen(connection.sync_connection, "before_cursor_execute", executed)
    raw.add_query_logger(logged)
    try:
        yield statements
    finally:
        raw.remove_query_logger(logged)
        event.remove(connection.sync_connection, "before_cursor_execute", executed)


async def statements_for(desk: Desk, events: Sequence[Event]) -> list[str]:
    """The statements one round of ``events`` costs the handler, then committed."""
    async with desk.sessions() as session:
        uow = desk.uow(session)
        async with counted(session) as statements:
            await HANDLERS[events[0].event_type](events, uow)
        await uow.commit()
    return statements


async def last_serial(engine: AsyncEngine, office: str, kind: DocumentKind) -> int:
    async with session_factory(engine)() as session:
        key = {"office_division": office, "kind": kind, "year": Clock().today().year}
        sequence = await session.get(DocumentSequence, key)
        return sequence.last_serial if sequence else 0


async def test_a_batch_of_overdue_facts_costs_the_same_statements_whatever_its_size(
    desk: Desk, engine: AsyncEngine
) -> None:
    warm = Rectification()
    await desk.open(warm)
    await desk.deliver(warm.event("overdue"))  # the process has loaded its division tree
    opening, climbing = {}, {}
    for n in (5, 50):
        rectifications = [Rectification() for _ in range(n)]
        # Their cases do not exist yet: the batch of openings opens them.
        opening[n] = await statements_for(desk, [r.event("opened") for r in rectifications])
        await desk.deliver_all([r.event("overdue") for r in rectifications])
        for r in rectifications:
            r.deadline += timedelta(days=16)
        # Now on open cases: the next step, an interview.
        climbing[n] = await statements_for(desk, [r.event("overdue") for r in rectifications])
        for r in rectifications:
            case = await case_of(engine, r)
            assert case is not None
            assert [s.kind.value for s in await steps_of(engine, case.id)] == ["urging_order", "interview"]

    assert len(opening[5]) == len(opening[50]), opening
    assert len(climbing[5]) == len(climbing[50]), climbing
    # BEGIN; the cases locked, the active ladders read, the missing cases opened, the facts noted, and
    # one write of the cases' requirements and the audit. A step: BEGIN; the cases locked, the facts
    # noted, the numbers reserved (with the offices' abbreviations), and one write of the documents, their
    # details, the steps, the notifications, the cases, the outbox and the audit.
    assert len(opening[50]) == 6, opening[50]
    assert len(climbing[50]) == 5, climbing[50]


async def test_a_batch_that_fails_half_way_writes_nothing(desk: Desk, engine: AsyncEngine) -> None:
    office = "451381"  # 合山市: no other test issues documents there
    year = desk.clock.today().year
    rectifications = [Rectification(division=office, office=office) for _ in range(3)]
    # A document that holds serial 2 without the sequence knowing: the batch fails at its last write, the
    # documents', after it opened the cases, noted the facts and reserved serials 1 to 3.
    squatter = Document(
        kind=DocumentKind.URGING_ORDER,
        number=f"合教督办〔{year}〕2号",
        year=year,
        serial=2,
        office_division=office,
        unit_id="squatter",
        unit_kind="school",
        unit_name="占号学校",
        division_code=office,
        grounds="-",
        title="-",
        body="-",
        issued_at=desk.clock.now(),
        created_at=desk.clock.now(),
        created_by="test",
    )
    await desk.open(*rectifications)
    async with session_factory(engine)() as session, session.begin():
        session.add(squatter)
    before = await written(engine)

    with pytest.raises(IntegrityError, match="uq_document_office_division_kind_year_serial"):
        await desk.deliver_all([r.event("overdue") for r in rectifications])

    assert await written(engine) == before
    cases = [await case_of(engine, r) for r in rectifications]
    assert [c.step_count if c else None for c in cases] == [0, 0, 0]  # opened, and no step taken
    assert await last_serial(engine, office, DocumentKind.URGING_ORDER) == 0

    # Once the squatter is gone the same batch goes through: no number was burnt by the failed one.
    async with session_factory(engine)() as session, session.begin():
        await session.execute(delete(Document).where(Document.id == squatter.id))
    await desk.deliver_all([r.event("overdue") for r in rectifications])
    numbers = []
    for r in rectifications:
        case = await case_of(engine, r)
        assert case is not None
        numbers += [s.document.number for s in await steps_of(engine, case.id)]
    assert numbers == [f"合教督办〔{year}〕{n}号" for n in (1, 2, 3)]


@pytest.fixture
async def own_engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of this test's own: whole tables, without other tests' rows."""
    engine = create_engine(
        Settings(database_url=SecretStr(own_database)), pool_size=6, schema="accountability"
    )
    try:
        yield engine
    finally:
        await engine.dispose()


# A new durable gets every event of its type ever published, other tests' too: each test below counts only
# what its own facts did.


async def test_two_workers_on_one_sweep_give_each_fact_exactly_one_step(
    js: JetStreamContext, own_engine: AsyncEngine, settings: Settings
) -> None:
    rectifications = [Rectification(division=office, office=office) for office in ("450102", "450103") * 40]
    consumers = own(*(rectifications[0].event(kind).event_type for kind in ("opened", "overdue")))
    for r in rectifications:
        opened = r.event("opened")
        await publish(js, opened, opened.event_id())
        fact = r.event("overdue")
        await publish(js, fact, fact.event_id())
        await publish(js, fact, uuid7())  # the same fact noticed again under another id

    await consume(js, own_engine, settings, consumers, workers=2, within=60.0)

    async with session_factory(own_engine)() as session:
        steps = select(EscalationCase.rectification_id, func.count(EscalationStep.id)).join(
            EscalationStep, EscalationStep.case_id == EscalationCase.id
        )
        ids = [r.id for r in rectifications]
        mine = steps.where(EscalationCase.rectification_id.in_(ids))
        grouped = await session.execute(mine.group_by(EscalationCase.rectification_id))
        per_case = {rectification_id: count for rectification_id, count in grouped}
        events = select(func.count()).where(
            kit.outbox.c.type == EscalationStepTaken.event_type,
            kit.outbox.c.envelope["data"]["rectification_id"].astext.in_(ids),
        )
        step_events = (await session.execute(events)).scalar_one()
    assert per_case == {r.id: 1 for r in rectifications}
    assert step_events == len(rectifications)


async def test_document_numbers_stay_gapless_and_unique_with_two_workers(
    js: JetStreamContext, own_engine: AsyncEngine, settings: Settings
) -> None:
    office = "451324"  # 金秀瑶族自治县: no other test's facts on the stream name it
    rectifications = [Rectification(division=office, office=office) for _ in range(120)]
    consumers = own(*(rectifications[0].event(kind).event_type for kind in ("opened", "overdue")))
    for r in rectifications:
        opened = r.event("opened")
        await publish(js, opened, opened.event_id())
        fact = r.event("overdue")
        await publish(js, fact, fact.event_id())

    await consume(js, own_engine, settings, consumers, workers=2, within=60.0)

    async with session_factory(own_engine)() as session:
        issued = select(Document.serial, Document.number).where(Document.office_division == office)
        rows = [(serial, number) for serial, number in await session.execute(issued)]
        sequence = await session.get(
            DocumentSequence,
            {"office_division": office, "kind": DocumentKind.URGING_ORDER, "year": Clock().today().year},
        )
    assert sorted(serial or 0 for serial, _ in rows) == list(range(1, 121))
    assert len({number for _, number in rows}) == 120
    assert all(re.fullmatch(r"金教督办〔\d{4}〕\d+号", number or "") for _, number in rows)
    assert sequence is not None
    assert sequence.last_serial == 120
