"""HTTP for the school roster monitoring works on."""

from __future__ import annotations

from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, decode_cursor, next_cursor
from monitoring.roster import repository
from monitoring.roster.schemas import RosterPage, RosterSchoolRead

router = transactional_router(prefix="/v1/school-roster", tags=["school roster"])


@router.get("", response_model=RosterPage)
async def list_roster(
    uow: UoW, who: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> RosterPage:
    """The schools monitoring knows of, within your jurisdiction (kept from school-inspection's events)."""
    rows = await repository.page(uow.session, who, after=decode_cursor(cursor), limit=limit + 1)
    return RosterPage(
        items=[RosterSchoolRead.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor([r.school_id for r in rows], limit),
    )
