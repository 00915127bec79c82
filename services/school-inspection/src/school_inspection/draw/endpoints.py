"""HTTP for double-random draws (双随机): commit, reveal, verify."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response

from dudao.errors import problems
from dudao.http.dependencies import UoW
from dudao.http.params import Inspecting, Office, Rt
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, decode_cursor, page_of
from school_inspection.draw import service
from school_inspection.draw.schemas import (
    DrawCommit,
    DrawPage,
    DrawRead,
    DrawReveal,
    DrawSummary,
    DrawVerification,
)
from school_inspection.inspector.service import INELIGIBLE
from school_inspection.visit.roster import UnknownInspectors

router = transactional_router(prefix="/v1/draws", tags=["double-random draws"])
ALGORITHM = "school_inspection/draw/algorithm.py (standard library only; its docstring states the algorithm)"


@router.post(
    "",
    status_code=201,
    response_model=DrawRead,
    responses=problems(DivisionOutsideJurisdiction, service.PoolTooSmall, UnknownInspectors, *INELIGIBLE),
)
async def commit_draw(body: DrawCommit, uow: UoW, who: Office, rt: Rt, response: Response) -> DrawRead:
    """Commit to a draw of N schools and M inspectors (双随机): give only the SHA-256 of your secret seed.

    The candidate pools (the division's schools; its inspectors who may serve today, or those you name)
    and the pairs that must never be drawn together (回避) are frozen now, with a nonce of the platform's;
    publish the response before revealing the seed with ``POST /v1/draws/{id}/reveal``.
    """
    draw = await service.commit(uow, who, rt.divisions, body)
    response.headers["Location"] = f"/v1/draws/{draw.id}"
    return DrawRead.model_validate(draw)


@router.get("", response_model=DrawPage)
async def list_draws(uow: UoW, who: Inspecting, cursor: Cursor = None, limit: Limit = 50) -> DrawPage:
    """Draws within your jurisdiction, oldest first (without their pools: read one draw for those)."""
    rows = await service.page(uow, who, after=decode_cursor(cursor), limit=limit)
    return page_of(DrawPage, DrawSummary, rows, limit)


@router.get("/{draw_id}", response_model=DrawRead, responses=problems(service.DrawNotFound))
async def get_draw(draw_id: UUID, uow: UoW, who: Inspecting) -> DrawRead:
    """One draw with its frozen pools, its seed once revealed and its result: all needed to re-run it."""
    return DrawRead.model_validate(await service.get(uow, who, draw_id))


@router.post(
    "/{draw_id}/reveal",
    response_model=DrawRead,
    responses=problems(service.DrawNotFound, service.SeedMismatch, service.AlreadyRevealed),
)
async def reveal_draw(draw_id: UUID, body: DrawReveal, uow: UoW, who: Office) -> DrawRead:
    """Reveal the seed: refused unless it hashes to the committed ``seed_hash``; then the draw is computed.

    A draw is ``void`` when too few inspectors remain once those who must recuse from a drawn school are
    left out; commit a new one.
    """
    return DrawRead.model_validate(await service.reveal(uow, who, draw_id, body.seed))


@router.get(
    "/{draw_id}/verify",
    response_model=DrawVerification,
    responses=problems(service.DrawNotFound, service.NotRevealed),
)
async def verify_draw(draw_id: UUID, uow: UoW, who: Inspecting) -> DrawVerification:
    """Recompute the draw from its revealed seed and frozen pools; say whether it equals the stored one."""
    draw, seed_ok, outcome = await service.verify(uow, who, draw_id)
    schools = [UUID(s) for s in outcome.schools]
    inspectors = [UUID(i) for i in outcome.inspectors]
    return DrawVerification(
        draw_id=draw.id,
        seed_matches_hash=seed_ok,
        recomputed_school_ids=schools,
        recomputed_inspector_ids=inspectors,
        recomputed_void_reason=outcome.void_reason,
        matches=seed_ok
        and schools == draw.drawn_school_ids
        and inspectors == draw.drawn_inspector_ids
        and outcome.void_reason == draw.void_reason,
        algorithm=ALGORITHM,
    )
