"""The rules of double-random draws (双随机): commit to a seed's hash, freeze the pools, reveal, verify.

The draw itself is ``school_inspection.draw.algorithm``, a pure function anyone can run. No SQL, no
commit here: the unit of work commits the draw and its audit entry together.
"""

from __future__ import annotations

import secrets
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.jurisdiction import require_visible
from dudao.uow import UnitOfWork
from school_inspection.draw import algorithm, repository
from school_inspection.draw.models import Draw, DrawStatus
from school_inspection.draw.schemas import DrawCommit
from school_inspection.inspector import repository as registry
from school_inspection.school.service import require_within
from school_inspection.visit import roster


class DrawNotFound(NotFound):
    type = "draw-not-found"
    title = "No such draw"


class PoolTooSmall(InvalidInput):
    type = "draw-pool-too-small"
    title = "The pool holds fewer candidates than the draw asks for"


class SeedMismatch(InvalidInput):
    type = "seed-mismatch"
    title = "The seed does not hash to the committed seed_hash"


class AlreadyRevealed(Conflict):
    type = "draw-already-revealed"
    title = "The draw's seed was already revealed"


class NotRevealed(Conflict):
    type = "draw-not-revealed"
    title = "The draw's seed has not been revealed yet"


async def commit(uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: DrawCommit) -> Draw:
    """Record the commitment and freeze the pools; a fresh nonce stops the office grinding seeds."""
    require_within(divisions, who, body.division_code)
    prefix = jurisdiction_prefix(body.division_code)
    schools = await repository.school_pool(uow.session, prefix, body.school_types)
    if body.school_count > len(schools):
        raise field_error(PoolTooSmall, "school_count", f"the pool holds {len(schools)} schools")
    if body.inspector_ids is not None and len(set(body.inspector_ids)) != len(body.inspector_ids):
        raise field_error(InvalidInput, "inspector_ids", "names an inspector twice")
    inspectors = await roster.draw_pool(uow, who, prefix, body.inspector_ids)
    if body.inspector_count > len(inspectors):
        raise field_error(PoolTooSmall, "inspector_count", f"the pool holds {len(inspectors)} inspectors")
    recused = await registry.recused_pairs(uow.session, inspectors, schools)
    now = uow.clock.now()
    draw = await repository.add(
        uow.session,
        Draw(
            division_code=body.division_code,
            purpose=body.purpose,
            school_types=[t.value for t in body.school_types] if body.school_types else None,
            school_count=body.school_count,
            inspector_count=body.inspector_count,
            seed_hash=body.seed_hash,
            nonce=secrets.token_hex(16),
            school_pool=schools,
            inspector_pool=inspectors,
            excluded_pairs=sorted([str(i), str(s)] for i, s in recused),
            status=DrawStatus.COMMITTED,
            committed_by=who.sub,
            committed_at=now,
            updated_at=now,
        ),
    )
    uow.record(
        "draw.committed",
        "random_draw",
        draw.id,
        draw.division_code,
        seed_hash=draw.seed_hash,
        schools=len(schools),
        inspectors=len(inspectors),
        excluded_pairs=len(recused),
    )
    return draw


def recompute(draw: Draw, seed: str) -> algorithm.Outcome:
    return algorithm.draw(
        seed,
        draw.nonce,
        [str(s) for s in draw.school_pool],
        [str(i) for i in draw.inspector_pool],
        draw.excluded_pairs,
        draw.school_count,
        draw.inspector_count,
    )


async def get(uow: UnitOfWork, who: Principal, draw_id: UUID, *, for_update: bool = False) -> Draw:
    missing = DrawNotFound(f"Draw {draw_id} does not exist")
    return await require_visible(uow.session, who, Draw, draw_id, missing, for_update=for_update)


async def reveal(uow: UnitOfWork, who: Principal, draw_id: UUID, seed: str) -> Draw:
    draw = await get(uow, who, draw_id, for_update=True)
    if draw.status != DrawStatus.COMMITTED:
        raise AlreadyRevealed(f"Draw {draw_id} was revealed at {draw.revealed_at}")
    if algorithm.seed_hash(seed) != draw.seed_hash:
        raise field_error(SeedMismatch, "seed", "its SHA-256 differs from the committed seed_hash")
    outcome = recompute(draw, seed)
    now = uow.clock.now()
    draw.seed = seed
    draw.drawn_school_ids = [UUID(s) for s in outcome.schools]
    draw.drawn_inspector_ids = [UUID(i) for i in outcome.inspectors]
    draw.void_reason = outcome.void_reason
    draw.status = DrawStatus.VOID if outcome.void_reason else DrawStatus.REVEALED
    draw.revealed_by, draw.revealed_at, draw.updated_at = who.sub, now, now
    await uow.session.flush()
    uow.record(
        "draw.revealed",
        "random_draw",
        draw.id,
        draw.division_code,
        status=draw.status.value,
        schools=outcome.schools,
        inspectors=outcome.inspectors,
    )
    return draw


async def verify(uow: UnitOfWork, who: Principal, draw_id: UUID) -> tuple[Draw, bool, algorithm.Outcome]:
    """Recompute the draw from its revealed seed: (draw, the seed matches its hash, the outcome)."""
    draw = await get(uow, who, draw_id)
    if draw.seed is None:
        raise NotRevealed(f"Draw {draw_id} is waiting for its seed")
    return draw, algorithm.seed_hash(draw.seed) == draw.seed_hash, recompute(draw, draw.seed)


async def page(uow: UnitOfWork, who: Principal, *, after: UUID | None, limit: int) -> list[Draw]:
    return await repository.page(uow.session, who, after=after, limit=limit + 1)
