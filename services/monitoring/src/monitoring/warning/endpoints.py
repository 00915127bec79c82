"""HTTP for early warning (动态监测预警): rules, alerts, and the office's decision on each alert."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Response

from dudao.calendar.schemas import Year
from dudao.errors import PreconditionFailed, PreconditionRequired, problems
from dudao.etag import etag
from dudao.http.dependencies import UoW
from dudao.http.params import IfMatch, Inspecting, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, InvalidCursor, Limit, UpdatedSince, decode_cursor, page_of
from dudao.rectification.service import OutsideJurisdiction
from monitoring.indicator.formula import FormulaSyntaxError
from monitoring.warning import service
from monitoring.warning.models import AlertStatus, RuleKind, WarningAlert, WarningRule
from monitoring.warning.schemas import (
    AlertDismissal,
    AlertFinding,
    AlertPage,
    AlertRead,
    EvaluationCreate,
    EvaluationRead,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
)

router = transactional_router(prefix="/v1/warning", tags=["early warning"])


def _rule(rule: WarningRule | dict[str, object], status: int = 200) -> Response:
    read = RuleRead.model_validate(rule)
    headers = {"ETag": etag(read.id, read.version)}
    if status == 201:
        headers["Location"] = f"/v1/warning/rules/{read.id}"
    return json_model(read, status, headers)


def _alert(alert: WarningAlert, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": etag(alert.id, alert.version)}
    if location is not None:
        headers["Location"] = location
    return json_model(AlertRead.model_validate(alert), status, headers)


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleRead,
    responses=problems(
        service.RuleCodeTaken, service.InvalidRule, FormulaSyntaxError, DivisionOutsideJurisdiction
    ),
)
async def create_rule(body: RuleCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """An early-warning rule for the units under your division (or ``division_code`` within it)."""
    return _rule(await service.create_rule(uow, who, rt.divisions, body), 201)


@router.get("/rules", response_model=RulePage, responses=problems(InvalidCursor))
async def list_rules(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    kind: Annotated[RuleKind | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    updated_since: UpdatedSince = None,
) -> RulePage:
    """The rules of the offices within your jurisdiction."""
    rows = await service.page_rules(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        within=within,
        kind=kind,
        active=active,
        updated_since=updated_since,
    )
    return page_of(RulePage, RuleRead, rows, limit)


@router.get("/rules/{rule_id}", response_model=RuleRead, responses=problems(service.RuleNotFound))
async def get_rule(rule_id: UUID, uow: UoW, who: Inspecting) -> Response:
    """One rule; 404 if it is another jurisdiction's."""
    return _rule(await service.get_rule(uow, who, rule_id))


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleRead,
    responses=problems(service.RuleNotFound, service.InvalidRule, PreconditionFailed, PreconditionRequired),
)
async def update_rule(
    rule_id: UUID, body: RuleUpdate, uow: UoW, who: Office, if_match: IfMatch = None
) -> Response:
    """Change a rule (or switch it off with ``active: false``). Send ``If-Match``."""
    return _rule(await service.update_rule(uow, who, rule_id, if_match, body))


@router.post("/evaluations", response_model=EvaluationRead, responses=problems(service.InvalidRule))
async def evaluate(body: EvaluationCreate, uow: UoW, who: Office, rt: Rt) -> EvaluationRead:
    """Apply the rules now to the year's approved values within your jurisdiction (each final approval
    and the nightly run do so on their own): after a rule changed, say."""
    raised = await service.evaluate_now(uow, who, rt.divisions, body)
    return EvaluationRead(year=body.year, system_key=body.system_key, alerts_raised=raised)


@router.get("/alerts", response_model=AlertPage, responses=problems(InvalidCursor))
async def list_alerts(
    uow: UoW,
    who: Inspecting,
    cursor: Cursor = None,
    limit: Limit = 50,
    within: Within = None,
    status: Annotated[AlertStatus | None, Query()] = None,
    year: Annotated[Year | None, Query()] = None,
    rule_id: Annotated[UUID | None, Query()] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    updated_since: UpdatedSince = None,
) -> AlertPage:
    """The alerts at units within your jurisdiction."""
    rows = await service.page_alerts(
        uow,
        who,
        after=decode_cursor(cursor),
        limit=limit + 1,
        within=within,
        status=status,
        year=year,
        rule_id=rule_id,
        unit_id=unit_id,
        updated_since=updated_since,
    )
    return page_of(AlertPage, AlertRead, rows, limit)


@router.get("/alerts/{alert_id}", response_model=AlertRead, responses=problems(service.AlertNotFound))
async def get_alert(alert_id: UUID, uow: UoW, who: Inspecting) -> Response:
    """One alert with the values behind it; 404 outside your jurisdiction."""
    return _alert(await service.get_alert(uow, who, alert_id))


_DECISION_PROBLEMS = problems(
    service.AlertNotFound, service.AlertDecided, PreconditionFailed, PreconditionRequired
)


@router.post(
    "/alerts/{alert_id}/finding",
    status_code=201,
    response_model=AlertRead,
    responses={**_DECISION_PROBLEMS, **problems(service.UnitNotOnRoster, OutsideJurisdiction)},
)
async def raise_finding(
    alert_id: UUID, body: AlertFinding, uow: UoW, who: Office, rt: Rt, if_match: IfMatch = None
) -> Response:
    """Turn the alert into a finding at the school or the county's people's government, rectified in the
    rectification loop; ``Location`` is the rectification. Send ``If-Match``."""
    alert = await service.raise_finding(uow, who, rt.divisions, alert_id, if_match, body)
    return _alert(alert, 201, f"/v1/rectifications/{alert.rectification_id}")


@router.post("/alerts/{alert_id}/dismissal", response_model=AlertRead, responses=_DECISION_PROBLEMS)
async def dismiss(
    alert_id: UUID, body: AlertDismissal, uow: UoW, who: Office, if_match: IfMatch = None
) -> Response:
    """Dismiss the alert, with the reason (the data were right, or explained). Send ``If-Match``."""
    return _alert(await service.dismiss(uow, who, alert_id, if_match, body))
