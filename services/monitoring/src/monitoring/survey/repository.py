"""Every query of satisfaction surveys, through the jurisdiction helper where a principal reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Row, Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao import pagination
from dudao.auth.principal import Principal
from dudao.jurisdiction import listed, visible_to
from dudao.uow import UnitOfWork
from monitoring.survey.models import Audience, Survey, SurveyAnswer, SurveyClientWindow, SurveyLink

SURVEYS = cast(Table, Survey.__table__)
LINKS = cast(Table, SurveyLink.__table__)
ANSWERS = cast(Table, SurveyAnswer.__table__)
WINDOWS = cast(Table, SurveyClientWindow.__table__)


def add_survey(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(SURVEYS, [row])


def update_survey(uow: UnitOfWork, row: dict[str, Any]) -> None:
    """By id; the caller locked the row."""
    uow.update(SURVEYS, [row])


async def get_survey(
    session: AsyncSession, who: Principal, survey_id: UUID, *, for_update: bool = False
) -> Survey | None:
    stmt = visible_to(select(Survey), who, Survey.division_code).where(Survey.id == survey_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_surveys(
    session: AsyncSession,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    audience: Audience | None,
    updated_since: datetime | None,
) -> Sequence[Survey]:
    stmt = listed(select(Survey), who, Survey.division_code, within)
    stmt = pagination.page(
        stmt,
        Survey.id,
        after=after,
        limit=limit,
        equal=[(Survey.year, year), (Survey.audience, audience)],
        updated_at=Survey.updated_at,
        updated_since=updated_since,
    )
    return (await session.execute(stmt)).scalars().all()


def add_links(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    uow.insert(LINKS, rows)


async def link_by_hash(
    session: AsyncSession, token_hash: str, *, for_update: bool = False
) -> SurveyLink | None:
    """The link of a token (public: the token is the credential), locked for its one answer if asked, so
    that two answers sent at once take turns and the second finds it used."""
    stmt = select(SurveyLink).where(SurveyLink.token_hash == token_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def survey_of(session: AsyncSession, survey_id: UUID) -> Survey:
    return (await session.execute(select(Survey).where(Survey.id == survey_id))).scalar_one()


def use_link(uow: UnitOfWork, link_id: UUID) -> None:
    uow.update(LINKS, [{"id": link_id, "used": True}])


def add_answer(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.insert(ANSWERS, [row])


async def county_counts(
    session: AsyncSession, who: Principal | None, *, year: int, prefix: str
) -> Sequence[Row[tuple[str, int, int, int]]]:
    """Per county under ``prefix`` (within ``who``'s jurisdiction, unless the system asks): the answers,
    the rated questions answered and the satisfied ones, for the year."""
    answers = select(SurveyAnswer).where(
        SurveyAnswer.year == year, SurveyAnswer.division_code.startswith(prefix, autoescape=True)
    )
    if who is not None:
        answers = visible_to(answers, who, SurveyAnswer.division_code)
    stmt = (
        answers.with_only_columns(
            SurveyAnswer.division_code,
            func.count(),
            func.sum(SurveyAnswer.rated),
            func.sum(SurveyAnswer.satisfied),
        )
        .group_by(SurveyAnswer.division_code)
        .order_by(SurveyAnswer.division_code)
    )
    rows = (await session.execute(stmt)).all()
    return cast(Sequence[Row[tuple[str, int, int, int]]], rows)


async def count_hit(session: AsyncSession, client_key: str, window_start: datetime) -> int:
    """One more hit of the client in the window, counted atomically; the hits so far. The caller commits
    it on its own, so that refused requests count too."""
    stmt = (
        insert(WINDOWS)
        .values(client_key=client_key, window_start=window_start, hits=1)
        .on_conflict_do_update(
            index_elements=[WINDOWS.c.client_key, WINDOWS.c.window_start],
            set_={"hits": WINDOWS.c.hits + 1},
        )
        .returning(WINDOWS.c.hits)
    )
    return int((await session.execute(stmt)).scalar_one())


async def forget_windows(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(SurveyClientWindow).where(SurveyClientWindow.window_start < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
