"""The rules of early warning. No SQL, no commit.

Offices keep rules as data, each applying to the units under its division. The rules are applied to a
county's approved values whenever a submission there is finally approved, and to the whole year's every
night; a hit is an alert, once per rule, unit, year and period (its id derives from them, so a rerun,
a redelivery or a second scheduler adds nothing). The office turns an alert into a finding in the
rectification loop, or dismisses it with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.contracts.monitoring import SubmissionApproved, WarningAlertRaised
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import derived_id, uuid7
from dudao.jurisdiction import require_within
from dudao.rectification.models import OriginKind
from dudao.rectification.models import UnitKind as FindingUnitKind
from dudao.rectification.schemas import FindingCreate, SupervisedUnit
from dudao.uow import UnitOfWork
from monitoring.collection import repository as values
from monitoring.indicator import service as indicators
from monitoring.indicator.formula import FormulaSyntaxError, parse
from monitoring.indicator.models import UnitKind
from monitoring.rectifications import rectifications
from monitoring.roster.models import RosterSchool
from monitoring.warning import evaluation, repository
from monitoring.warning.models import AlertStatus, RuleKind, WarningAlert, WarningRule
from monitoring.warning.schemas import AlertDismissal, AlertFinding, EvaluationCreate, RuleCreate, RuleUpdate

# Values are collected once a year: an alert is about the year as a whole.
ANNUAL = "annual"
FINDING_CATEGORY = "early_warning"


class RuleNotFound(NotFound):
    type = "warning-rule-not-found"
    title = "No such early-warning rule"


class RuleCodeTaken(Conflict):
    type = "warning-rule-code-taken"
    title = "An early-warning rule with this code exists"


class InvalidRule(InvalidInput):
    type = "invalid-warning-rule"
    title = "The early-warning rule is not consistent"


class AlertNotFound(NotFound):
    type = "warning-alert-not-found"
    title = "No such early-warning alert"


class AlertDecided(Conflict):
    type = "warning-alert-decided"
    title = "The alert was already turned into a finding or dismissed"


class UnitNotOnRoster(Conflict):
    type = "warning-unit-not-on-roster"
    title = "The alert's school is not on the roster, so no finding can name it"


# The fields each kind needs; the rest must be left out.
_NEEDS: dict[RuleKind, frozenset[str]] = {
    RuleKind.THRESHOLD: frozenset({"operator", "bound"}),
    RuleKind.CHANGE: frozenset({"operator", "bound", "change_mode"}),
    RuleKind.OUTLIER: frozenset({"bound", "outlier_method"}),
    RuleKind.CONSISTENCY: frozenset({"operator", "right_expression"}),
    RuleKind.REGISTRY: frozenset({"bound"}),
}
_OPTIONAL = ("operator", "bound", "right_expression", "change_mode", "outlier_method")


def _check(rule: dict[str, Any]) -> None:
    """A rule's fields as its kind needs them, its expressions readable: else a 422 naming the field."""
    kind: RuleKind = rule["kind"]
    for name in _OPTIONAL:
        if name in _NEEDS[kind] and rule[name] is None:
            raise field_error(InvalidRule, name, f"is needed by a {kind.value} rule")
        if name not in _NEEDS[kind] and rule[name] is not None:
            raise field_error(InvalidRule, name, f"has no meaning for a {kind.value} rule")
    if kind in (RuleKind.OUTLIER, RuleKind.REGISTRY) and rule["bound"] <= 0:
        raise field_error(InvalidRule, "bound", "must be positive")
    if kind == RuleKind.REGISTRY and rule["unit_kind"] != UnitKind.SCHOOL:
        raise field_error(InvalidRule, "unit_kind", "the registry knows schools only")
    for name in ("expression", "right_expression"):
        if rule[name] is not None:
            try:
                parse(rule[name])
            except FormulaSyntaxError as error:
                raise field_error(InvalidRule, name, error.detail) from None


async def create_rule(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: RuleCreate
) -> dict[str, Any]:
    division = require_within(divisions, who, body.division_code or who.division)
    now = uow.clock.now()
    row: dict[str, Any] = {
        "id": uuid7(),
        **body.model_dump(),
        "division_code": division.code,
        "version": 1,
        "created_by": who.sub,
        "created_at": now,
        "updated_at": now,
    }
    _check(row)
    repository.add_rule(uow, row, taken=RuleCodeTaken(f"The code {body.code} is taken; choose another"))
    uow.record("warning_rule.created", "warning_rule", row["id"], division.code, code=body.code)
    return row


async def get_rule(
    uow: UnitOfWork, who: Principal, rule_id: UUID, *, for_update: bool = False
) -> WarningRule:
    rule = await repository.get_rule(uow.session, who, rule_id, for_update=for_update)
    if rule is None:
        raise RuleNotFound(f"Early-warning rule {rule_id} does not exist")
    return rule


async def update_rule(
    uow: UnitOfWork, who: Principal, rule_id: UUID, if_match: str | None, body: RuleUpdate
) -> WarningRule:
    rule = await get_rule(uow, who, rule_id, for_update=True)
    require_match(if_match, rule.id, rule.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        return rule
    for name in ("name", "expression", "severity", "active"):
        if name in changes and changes[name] is None:
            raise field_error(InvalidRule, name, "may not be cleared")
    merged = {c.key: getattr(rule, c.key) for c in repository.RULES.columns} | changes
    _check(merged)
    changes |= {"version": rule.version + 1, "updated_at": uow.clock.now()}
    repository.update_rule(uow, {"id": rule.id, **changes})
    uow.record("warning_rule.updated", "warning_rule", rule.id, rule.division_code, changes=sorted(changes))
    for name, value in changes.items():
        setattr(rule, name, value)
    return rule


async def page_rules(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[WarningRule]:
    return await repository.page_rules(uow.session, who, **filters)


# --- evaluation -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A year of one system's approved values under a division prefix ("" for every division)."""

    system_id: UUID
    year: int
    prefix: str


async def _latest(uow: UnitOfWork, keys: Iterable[str]) -> dict[str, UUID]:
    """The id of the newest edition of each system named; one not yet recorded is left out."""
    found: dict[str, UUID] = {}
    for key in dict.fromkeys(keys):
        try:
            found[key] = (await indicators.system_by_key(uow, key)).id
        except NotFound:
            continue
    return found


async def _keys(uow: UnitOfWork, system_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The key of each system (a rule watches every edition of its system)."""
    found: dict[UUID, str] = {}
    for system_id in dict.fromkeys(system_ids):
        try:
            found[system_id] = (await indicators.system(uow, system_id)).key
        except NotFound:
            continue
    return found


async def _evaluate(uow: UnitOfWork, rules: Sequence[WarningRule], scopes: Sequence[Scope]) -> int:
    """The alerts the rules raise in the scopes, written as one statement; how many are new."""
    keys = await _keys(uow, (s.system_id for s in scopes))
    now = uow.clock.now()
    rows: dict[UUID, dict[str, Any]] = {}
    for scope in dict.fromkeys(scopes):
        applying = [r for r in rules if r.system_key == keys.get(scope.system_id)]
        if not applying:
            continue
        hits = evaluation.apply(applying, await _data(uow, applying, scope))
        for hit in hits:
            alert_id = derived_id(
                "warning_alert", hit.rule.id, hit.unit_kind, hit.unit_id, scope.year, ANNUAL
            )
            rows[alert_id] = {
                "id": alert_id,
                "rule_id": hit.rule.id,
                "system_id": scope.system_id,
                "unit_kind": hit.unit_kind,
                "unit_id": hit.unit_id,
                "division_code": hit.division_code,
                "year": scope.year,
                "period": ANNUAL,
                "observed": hit.observed,
                "details": hit.details,
                "message": hit.message,
                "status": AlertStatus.OPEN,
                "dismissal_reason": None,
                "rectification_id": None,
                "decided_by": None,
                "decided_at": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
    if not rows:
        return 0
    existing = await repository.existing_alerts(uow.session, rows.keys())
    new = [row for alert_id, row in rows.items() if alert_id not in existing]
    if not new:
        return 0
    repository.add_alerts(uow, new)
    by_id = {r.id: r for r in rules}
    for row in new:
        rule = by_id[row["rule_id"]]
        uow.emit(
            WarningAlertRaised(
                division=row["division_code"],
                alert_id=str(row["id"]),
                rule_code=rule.code,
                rule_kind=rule.kind.value,
                unit_kind=row["unit_kind"],
                unit_id=row["unit_id"],
                year=row["year"],
                message=row["message"],
            )
        )
        uow.record("warning_alert.raised", "warning_alert", row["id"], row["division_code"], rule=rule.code)
    return len(new)


async def _data(uow: UnitOfWork, rules: Sequence[WarningRule], scope: Scope) -> evaluation.Data:
    """The values the rules read: the year's, last year's for change rules, the roster's enrolment for
    registry checks."""
    codes = set().union(*(evaluation.names(r) for r in rules))

    async def year(y: int) -> dict[evaluation.UnitKey, evaluation.UnitValues]:
        rows = await values.approved(
            uow.session, system_id=scope.system_id, year=y, division_prefix=scope.prefix, element_codes=codes
        )
        return evaluation.gather(rows)

    current = await year(scope.year)
    kinds = {r.kind for r in rules}
    previous = await year(scope.year - 1) if RuleKind.CHANGE in kinds else {}
    registry: dict[str, int] = {}
    if RuleKind.REGISTRY in kinds:
        schools = [unit_id for kind, unit_id in current if kind == UnitKind.SCHOOL]
        if schools:
            roster = await values.roster_schools(uow.session, prefix=scope.prefix, ids=schools)
            registry = {i: n for i, s in roster.items() if (n := _registered(s)) is not None}
    return evaluation.Data(current, previous, registry)


def _registered(school: RosterSchool) -> int | None:
    """The school's pupils in the stages reported (primary, junior, senior) by the registry, or its total
    enrolment where the registry knows no stages; None where it knows neither (a school known from
    version 1 of the school events only)."""
    stages = (school.pupils_primary, school.pupils_junior, school.pupils_senior)
    known = [n for n in stages if n is not None]
    return sum(known) if len(known) == len(stages) else school.enrolment


async def on_approved(uow: UnitOfWork, events: Sequence[SubmissionApproved]) -> int:
    """Evaluate the counties whose submissions were finally approved: the whole county, since a school's
    new values move its county's distribution for the outlier rules."""
    rules = await repository.active_rules(uow.session)
    scopes = [Scope(UUID(e.system_id), e.year, e.division) for e in events]
    return await _evaluate(uow, rules, scopes)


async def nightly(uow: UnitOfWork, today: date) -> int:
    """Every rule over this year's and last year's approved values (late approvals included)."""
    rules = await repository.active_rules(uow.session)
    systems = await _latest(uow, (r.system_key for r in rules))
    years = (today.year - 1, today.year)
    return await _evaluate(uow, rules, [Scope(s, y, "") for s in systems.values() for y in years])


async def evaluate_now(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: EvaluationCreate
) -> int:
    """The rules of ``body.system_key`` over the year's values within the caller's jurisdiction."""
    prefix = jurisdiction_prefix(who.division)
    if body.within is not None:
        if not body.within.startswith(prefix):
            raise field_error(InvalidRule, "within", "is outside your jurisdiction")
        prefix = body.within
    rules = await repository.active_rules(uow.session, [body.system_key])
    systems = await _latest(uow, [body.system_key])
    if body.system_key not in systems:
        raise field_error(InvalidRule, "system_key", "names no indicator system")
    return await _evaluate(uow, rules, [Scope(systems[body.system_key], body.year, prefix)])


# --- alerts ---------------------------------------------------------------------------------------------


async def get_alert(
    uow: UnitOfWork, who: Principal, alert_id: UUID, *, for_update: bool = False
) -> WarningAlert:
    alert = await repository.get_alert(uow.session, who, alert_id, for_update=for_update)
    if alert is None:
        raise AlertNotFound(f"Early-warning alert {alert_id} does not exist")
    return alert


async def page_alerts(uow: UnitOfWork, who: Principal, **filters: Any) -> Sequence[WarningAlert]:
    return await repository.page_alerts(uow.session, who, **filters)


async def _deciding(uow: UnitOfWork, who: Principal, alert_id: UUID, if_match: str | None) -> WarningAlert:
    alert = await get_alert(uow, who, alert_id, for_update=True)
    require_match(if_match, alert.id, alert.version)
    if alert.status != AlertStatus.OPEN:
        raise AlertDecided(f"The alert is {alert.status.value}")
    return alert


def _decide(uow: UnitOfWork, who: Principal, alert: WarningAlert, changes: dict[str, Any]) -> WarningAlert:
    now = uow.clock.now()
    changes |= {"decided_by": who.sub, "decided_at": now, "version": alert.version + 1, "updated_at": now}
    repository.update_alert(uow, {"id": alert.id, **changes})
    for name, value in changes.items():
        setattr(alert, name, value)
    return alert


async def _unit(
    uow: UnitOfWork, divisions: DivisionTree, alert: WarningAlert, department: str | None
) -> SupervisedUnit:
    """Whom the finding is addressed to: the school (by its code, as school-inspection names it), or the
    county's people's government."""
    if alert.unit_kind == UnitKind.COUNTY:
        county = divisions.require(alert.unit_id)
        return SupervisedUnit(
            id=county.code,
            kind=FindingUnitKind.GOVERNMENT,
            name=f"{county.name}人民政府",
            division_code=county.code,
            competent_department=department,
        )
    roster = await values.roster_schools(uow.session, prefix=alert.division_code, ids=[alert.unit_id])
    school = roster.get(alert.unit_id)
    if school is None:
        raise UnitNotOnRoster(f"School {alert.unit_id} is not on the roster")
    return SupervisedUnit(
        id=school.school_code,
        kind=FindingUnitKind.SCHOOL,
        name=school.name,
        division_code=school.division_code,
        competent_department=department,
    )


async def raise_finding(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    alert_id: UUID,
    if_match: str | None,
    body: AlertFinding,
) -> WarningAlert:
    """The alert as a finding in the rectification loop (monitoring origin)."""
    alert = await _deciding(uow, who, alert_id, if_match)
    rectification = await rectifications.service.raise_finding(
        uow,
        who,
        divisions,
        FindingCreate(
            unit=await _unit(uow, divisions, alert, body.competent_department),
            origin_kind=OriginKind.EVALUATION,
            origin_ref=f"warning:{alert.rule.code}:{alert.year}",
            category=FINDING_CATEGORY,
            severity=body.severity or alert.rule.severity,
            description=body.description or f"{alert.year}年监测预警：{alert.message}",
            requirement=body.requirement,
            deadline=body.deadline,
        ),
    )
    uow.record(
        "warning_alert.finding_raised",
        "warning_alert",
        alert.id,
        alert.division_code,
        rectification_id=str(rectification.id),
    )
    return _decide(
        uow, who, alert, {"status": AlertStatus.FINDING_RAISED, "rectification_id": rectification.id}
    )


async def dismiss(
    uow: UnitOfWork, who: Principal, alert_id: UUID, if_match: str | None, body: AlertDismissal
) -> WarningAlert:
    alert = await _deciding(uow, who, alert_id, if_match)
    uow.record("warning_alert.dismissed", "warning_alert", alert.id, alert.division_code)
    return _decide(uow, who, alert, {"status": AlertStatus.DISMISSED, "dismissal_reason": body.reason})
