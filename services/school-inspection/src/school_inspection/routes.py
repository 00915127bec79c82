"""What the routes of every domain share: who may call, the common parameters, and a list's page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Query
from pydantic import BaseModel

from dudao.auth.principal import Principal, Role
from dudao.http.dependencies import require, runtime
from dudao.pagination import next_cursor
from dudao.runtime import Runtime

Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]
Inspecting = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.INSPECTOR))]
Rt = Annotated[Runtime, Depends(runtime)]
IfMatch = Annotated[str | None, Header()]
DivisionPath = Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$", description="6-digit division code")]
Within = Annotated[
    str | None, Query(pattern=r"^[1-9][0-9]{1,5}$", description="Only under this division-code prefix")
]

P = TypeVar("P", bound=BaseModel)


def page_of(page: type[P], read: type[BaseModel], rows: Sequence[Any], limit: int) -> P:
    """The page of ``rows`` fetched with ``limit + 1``: the first ``limit`` as ``read``, and the cursor of
    the next page when there is one."""
    return page(
        items=[read.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor([r.id for r in rows], limit),
    )
