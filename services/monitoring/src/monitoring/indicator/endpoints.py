"""HTTP for the indicator library (指标库): systems with their trees, editions, elements, and evaluating
formulas over given values."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response

from dudao.auth.principal import Principal, Role
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW
from dudao.http.params import IfMatch, Office, Rt
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, page_of
from dudao.uow import UnitOfWork
from monitoring.agency import service as agency
from monitoring.indicator import service
from monitoring.indicator.formula import FormulaUndefined
from monitoring.indicator.models import EducationLevel, ElementKind, Indicator, UnitKind
from monitoring.indicator.schemas import (
    ElementOutcome,
    ElementPage,
    ElementRead,
    EvaluationRead,
    EvaluationRequest,
    IndicatorRead,
    Outcome,
    StandardRead,
    SystemContent,
    SystemCreate,
    SystemPage,
    SystemRead,
    SystemSummary,
    ThresholdRead,
    Undefined,
)

router = transactional_router(prefix="/v1/indicator-systems", tags=["indicator library"])

# What an agency's key may be refused with: it reads only the systems its commission assesses.
COMMISSION = (
    agency.AgencyKeyRequired,
    agency.KeyNotBound,
    agency.CommissionNotInForce,
    agency.OutsideCommission,
)


def _as_agency(who: Principal) -> bool:
    return Role.AGENCY in who.roles and not who.has_any(Role.SUPERVISION_OFFICE, Role.INSPECTOR)


async def _within_commission(uow: UnitOfWork, who: Principal, system_id: UUID) -> None:
    if _as_agency(who):
        await agency.require_commission(uow, who, system_id=system_id)


def _tree(indicators: list[Indicator]) -> list[IndicatorRead]:
    """The stored depth-first rows as the nested tree they were recorded as."""
    nodes = {
        i.code: IndicatorRead(
            code=i.code,
            name=i.name,
            level=i.level,
            element=i.element_code,
            veto=i.veto,
            description=i.description,
            children=[],
        )
        for i in indicators
    }
    roots = []
    for i in indicators:  # in position order: a parent before its children, siblings in order
        if i.parent_code is None:
            roots.append(nodes[i.code])
        else:
            nodes[i.parent_code].children.append(nodes[i.code])
    return roots


def _detail(found: service.SystemDetail) -> SystemRead:
    return SystemRead.model_validate(
        {
            **SystemSummary.model_validate(found.system).model_dump(),
            "level_names": found.system.level_names,
            "description": found.system.description,
            "created_by": found.system.created_by,
            "indicators": _tree(found.indicators),
            "standards": [StandardRead.model_validate(s) for s in found.standards],
            "thresholds": [ThresholdRead.model_validate(t) for t in found.thresholds],
        }
    )


async def _recorded(uow: UoW, who: Office, rt: Rt, row: dict[str, Any]) -> Response:
    await uow.flush()  # the rows are written set-wise: read the edition back as any reader will
    read = _detail(await service.detail(uow, who, rt.divisions, row["id"]))
    headers = {"Location": f"/v1/indicator-systems/{read.id}", "ETag": etag(read.id, read.edition)}
    return json_model(read, 201, headers)


@router.post(
    "",
    status_code=201,
    response_model=SystemRead,
    responses=problems(service.InvalidSystem, service.SystemKeyTaken, service.SystemEditionTaken),
)
async def record_system(body: SystemCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Record an indicator system (指标体系) for your office: its tree of indicators (``children``, as deep
    as ``level_names``), the data elements they are measured by (base ones collected, derived ones with a
    formula over other elements), the standards per element, stage and division prefix, and the
    thresholds its rules use. It is edition 1 of ``key``; the offices below yours use it too."""
    return await _recorded(uow, who, rt, await service.record_system(uow, who, body))


@router.get("", response_model=SystemPage, responses=problems(*COMMISSION))
async def list_systems(
    uow: UoW,
    who: CurrentPrincipal,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 50,
    key: Annotated[str | None, Query(max_length=60)] = None,
    education_level: Annotated[EducationLevel | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> SystemPage:
    """The systems you may use, every edition: the seeded ones, your offices above's and your
    jurisdiction's; an agency's key, those its commission assesses."""
    only = (await agency.require_commission(uow, who)).system_ids if _as_agency(who) else None
    rows = await service.system_page(
        uow,
        who,
        rt.divisions,
        after=decode_cursor(cursor),
        limit=limit,
        key=key,
        education_level=education_level,
        updated_since=updated_since,
        only=only,
    )
    return page_of(SystemPage, SystemSummary, rows, limit)


@router.get(
    "/{system_id}", response_model=SystemRead, responses=problems(service.SystemNotFound, *COMMISSION)
)
async def get_system(
    system_id: UUID, uow: UoW, who: CurrentPrincipal, rt: Rt, response: Response
) -> SystemRead:
    """One edition with its whole tree, its standards and its thresholds. Its ETag is what ``If-Match``
    carries to record the next edition."""
    await _within_commission(uow, who, system_id)
    read = _detail(await service.detail(uow, who, rt.divisions, system_id))
    response.headers["ETag"] = etag(read.id, read.edition)
    return read


@router.post(
    "/{system_id}/editions",
    status_code=201,
    response_model=SystemRead,
    responses=problems(
        service.SystemNotFound,
        service.InvalidSystem,
        service.NotTheSystemOwner,
        service.SystemEditionTaken,
        PreconditionFailed,
        PreconditionRequired,
    ),
)
async def record_edition(
    system_id: UUID, body: SystemContent, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """Record the next edition of your office's system, whole (the kindergarten guide's check points are
    filled in this way). ``If-Match``: the ETag of its latest edition. Earlier editions never change."""
    row = await service.record_edition(uow, who, rt.divisions, system_id, if_match, body)
    return await _recorded(uow, who, rt, row)


@router.get(
    "/{system_id}/elements",
    response_model=ElementPage,
    responses=problems(service.SystemNotFound, *COMMISSION),
)
async def list_elements(
    system_id: UUID,
    uow: UoW,
    who: CurrentPrincipal,
    rt: Rt,
    cursor: Cursor = None,
    limit: Limit = 100,
    kind: Annotated[ElementKind | None, Query()] = None,
    unit_kind: Annotated[UnitKind | None, Query()] = None,
) -> ElementPage:
    """The system's data elements (数据元素) in the order they were defined, with units, ranges and the
    formulas of the derived ones."""
    await _within_commission(uow, who, system_id)
    rows = await service.element_page(
        uow,
        who,
        rt.divisions,
        system_id,
        after=decode_cursor(cursor),
        limit=limit,
        kind=kind,
        unit_kind=unit_kind,
    )
    return page_of(ElementPage, ElementRead, rows, limit)


def _outcome(found: service.Outcome) -> dict[str, Any]:
    value = found.value
    return {
        "value": None if isinstance(value, FormulaUndefined) else value,
        "error": Undefined(reason=value.reason, detail=value.detail)
        if isinstance(value, FormulaUndefined)
        else None,
        "standard": None if found.standard is None else StandardRead.model_validate(found.standard),
        "met": found.met,
    }


@router.post(
    "/{system_id}/evaluate",
    response_model=EvaluationRead,
    responses=problems(service.SystemNotFound, service.InvalidEvaluation, *COMMISSION),
)
async def evaluate(
    system_id: UUID, body: EvaluationRequest, uow: UoW, who: CurrentPrincipal, rt: Rt
) -> EvaluationRead:
    """Compute the system's derived elements from the base values given (and your own ``formula``, to try
    one out), each judged against the standard that applies in ``division_code`` for ``stage``. An element
    without a value says why (``division_by_zero``, ``missing_value``, ``overflow``). Writes nothing."""
    await _within_commission(uow, who, system_id)
    result = await service.evaluate(uow, who, rt.divisions, system_id, body)
    return EvaluationRead(
        elements=[ElementOutcome(element_code=code, **_outcome(o)) for code, o in result.elements.items()],
        formula=None if result.formula is None else Outcome(**_outcome(result.formula)),
    )
