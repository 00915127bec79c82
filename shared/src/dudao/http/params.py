"""The annotated parameters routes share: who may call, the runtime, and the common path, query and header
parameters. A domain's routes use these rather than declaring their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query

from dudao.auth.principal import Principal, Role
from dudao.http.dependencies import require, runtime
from dudao.runtime import Runtime

Office = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE))]
Inspecting = Annotated[Principal, Depends(require(Role.SUPERVISION_OFFICE, Role.INSPECTOR))]
Unit = Annotated[Principal, Depends(require(Role.SUPERVISED_UNIT))]
Rt = Annotated[Runtime, Depends(runtime)]
IfMatch = Annotated[str | None, Header()]
DivisionPath = Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$", description="6-digit division code")]
Within = Annotated[
    str | None, Query(pattern=r"^[1-9][0-9]{1,5}$", description="Only under this division-code prefix")
]
