"""Document numbering as a service runs it (governance's schema here): gapless serials of any number of
series in one statement, in the caller's transaction, and the abbreviations governance records."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dudao import numbering
from dudao.clock import Clock
from dudao.config import Settings
from dudao.contracts.governance import SupervisionOfficeRecorded
from dudao.db import create_engine, session_factory
from dudao.divisions.tree import DivisionTree, load_tree
from dudao.numbering import DocumentNumber, Wanted
from dudao.numbering.handlers import record_offices
from dudao.numbering.models import DocumentSequence, IssuingOffice
from dudao.uow import UnitOfWork
from governance.db import kit

REGION, CITY, COUNTY = "450000", "450100", "450102"  # 广西, 南宁市, 兴宁区
divisions: DivisionTree = load_tree()


@pytest.fixture(scope="module")
async def governance_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, application_name="tests-numbering", pool_size=3, schema="governance")
    yield engine
    await engine.dispose()


def uow_of(session: AsyncSession) -> UnitOfWork:
    return UnitOfWork(session, kit, "/dudao/governance", Clock())


def a_year() -> int:
    """A year no other test numbers in, so that its series start at 1."""
    return 3000 + secrets.randbelow(5000)


async def reserved(engine: AsyncEngine, wanted: Sequence[Wanted]) -> list[list[DocumentNumber]]:
    async with session_factory(engine)() as session:
        uow = uow_of(session)
        numbers = await numbering.reserve(uow, divisions, wanted)
        await uow.commit()
    return numbers


def texts(numbers: list[DocumentNumber]) -> list[str]:
    return [n.text for n in numbers]


async def test_series_are_gapless_and_numbered_in_the_order_asked(governance_engine: AsyncEngine) -> None:
    year = a_year()
    first = await reserved(
        governance_engine,
        [
            Wanted(REGION, "supervision_opinion", year),
            Wanted(COUNTY, "urging_order", year, count=2),
            Wanted(REGION, "supervision_opinion", year, count=2),
        ],
    )
    assert [texts(n) for n in first] == [
        [f"桂教督意〔{year}〕1号"],
        [f"兴教督办〔{year}〕1号", f"兴教督办〔{year}〕2号"],
        [f"桂教督意〔{year}〕2号", f"桂教督意〔{year}〕3号"],
    ]
    assert first[1][1] == DocumentNumber(serial=2, year=year, text=f"兴教督办〔{year}〕2号")
    # The next request goes on where the last stopped; another year or kind is a series of its own.
    second = await reserved(
        governance_engine,
        [Wanted(REGION, "supervision_opinion", year), Wanted(REGION, "supervision_opinion", year + 1)],
    )
    assert [texts(n) for n in second] == [[f"桂教督意〔{year}〕4号"], [f"桂教督意〔{year + 1}〕1号"]]
    assert await reserved(governance_engine, []) == []


async def test_one_statement_for_any_number_of_series(governance_engine: AsyncEngine) -> None:
    year = a_year()
    kinds = numbering.KIND_CHARACTERS
    wanted = [Wanted(code, kind, year) for code in (REGION, CITY, COUNTY) for kind in kinds]
    statements: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    async with session_factory(governance_engine)() as session:
        sync = (await session.connection()).sync_connection

        event.listen(sync, "before_cursor_execute", executed)
        numbers = await numbering.reserve(uow_of(session), divisions, wanted)
        event.remove(sync, "before_cursor_execute", executed)
        await session.commit()
    assert len(statements) == 1
    assert all(len(n) == 1 and n[0].serial == 1 for n in numbers)


async def test_a_rolled_back_transaction_takes_its_numbers_back(governance_engine: AsyncEngine) -> None:
    year = a_year()
    async with session_factory(governance_engine)() as session:
        await numbering.reserve(uow_of(session), divisions, [Wanted(CITY, "circular", year, count=3)])
        await session.rollback()
    [[number]] = await reserved(governance_engine, [Wanted(CITY, "circular", year)])
    assert number.text == f"南教督通〔{year}〕1号"


async def test_an_unknown_kind_is_refused_and_reserves_nothing(governance_engine: AsyncEngine) -> None:
    year = a_year()
    async with session_factory(governance_engine)() as session:
        with pytest.raises(numbering.UnknownDocumentKind, match="memo"):
            await numbering.reserve(
                uow_of(session), divisions, [Wanted(CITY, "circular", year), Wanted(CITY, "memo", year)]
            )
        stmt = select(func.count()).select_from(DocumentSequence).where(DocumentSequence.year == year)
        assert (await session.execute(stmt)).scalar_one() == 0


def recorded(division: str, abbreviation: str, version: int) -> SupervisionOfficeRecorded:
    return SupervisionOfficeRecorded(
        division=division,
        office_id=f"office-{division}",
        name=f"{abbreviation}办公室",
        abbreviation=abbreviation,
        version=version,
    )


async def project(engine: AsyncEngine, events: Sequence[SupervisionOfficeRecorded]) -> None:
    async with session_factory(engine)() as session:
        uow = uow_of(session)
        await record_offices(events, uow)
        await uow.commit()


async def office(engine: AsyncEngine, division: str) -> numbering.IssuingOfficeView:
    async with session_factory(engine)() as session:
        return await numbering.issuing_office(uow_of(session), divisions, division)


async def test_the_newest_record_of_an_office_gives_its_numbers_their_abbreviation(
    governance_engine: AsyncEngine,
) -> None:
    county = "450203"  # 鱼峰区: no other test records it
    assert await office(governance_engine, county) == numbering.IssuingOfficeView(
        county, "鱼教督", None, default=True
    )
    await project(governance_engine, [recorded(county, "鱼峰教督", 2)])
    await project(governance_engine, [recorded(county, "柳鱼督", 1)])  # older: changes nothing
    await project(governance_engine, [recorded(county, "鱼峰教督", 2)])  # redelivered: nothing either
    assert await office(governance_engine, county) == numbering.IssuingOfficeView(
        county, "鱼峰教督", "鱼峰教督办公室", default=False
    )
    year = a_year()
    [[number]] = await reserved(governance_engine, [Wanted(county, "commendation", year)])
    assert number.text == f"鱼峰教督表〔{year}〕1号"
    # A round with an older and a newer record keeps the newer.
    await project(governance_engine, [recorded(county, "鱼教督导", 4), recorded("450204", "柳南教督", 1)])
    await project(governance_engine, [recorded(county, "旧代字", 3)])
    assert (await office(governance_engine, county)).abbreviation == "鱼教督导"
    async with session_factory(governance_engine)() as session:
        row = await session.get(IssuingOffice, county)
        assert row is not None
        assert row.version == 4


def test_a_default_abbreviation_never_repeats_the_regions() -> None:
    assert numbering.default_abbreviation(divisions, "450000") == "桂教督"
    assert numbering.default_abbreviation(divisions, "450300") == "林教督"  # 桂林市
    assert numbering.default_abbreviation(divisions, "450102") == "兴教督"
