"""The rules of balanced development around the computation. No SQL, no commit.

An office evaluates a county, or every county under its city or the region, for a year: the verdicts are
computed from the approved values and the roster (``compute.py``), kept with every figure, announced, and
each criterion a county fails raises a finding at the county government, once per county, year and
criterion. A what-if computes the verdict changed values would give and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np

from dudao.auth.principal import Principal
from dudao.contracts.monitoring import BalanceVerdictGiven
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode, jurisdiction_prefix
from dudao.errors import Conflict, InvalidInput, NotFound, field_error
from dudao.ids import uuid7
from dudao.jurisdiction import require_within
from dudao.rectification.models import DeadlineKind, OriginKind, Severity, UnitKind
from dudao.rectification.schemas import DeadlineSpec, FindingCreate, SupervisedUnit
from dudao.uow import UnitOfWork
from monitoring.balance import repository
from monitoring.balance.compute import (
    BASIC_BALANCE_YEAR,
    DEFAULT_THRESHOLDS,
    PUPILS,
    STAGES,
    Comparison,
    Criterion,
    Resource,
    Rules,
    SchoolTable,
    Status,
    Verdict,
    verdicts,
)
from monitoring.balance.models import BalanceVerdict
from monitoring.balance.schemas import EvaluationRequest, WhatIfRequest
from monitoring.collection import repository as values_repository
from monitoring.indicator import repository as indicator_repository
from monitoring.indicator import service as indicators
from monitoring.indicator.formula import FormulaUndefined
from monitoring.indicator.models import DataElement, IndicatorSystem, Standard, Threshold
from monitoring.indicator.models import UnitKind as ValueUnit
from monitoring.rectifications import rectifications

# A failed criterion is a long-term rectification: the provincial default report window (RULES.md §3).
RECTIFICATION_DEADLINE = DeadlineSpec(days=30, kind=DeadlineKind.CALENDAR)
FINDING_CATEGORY = "balanced_development"
RESOURCE_PREFIX = "resource."
STAGE_PUPILS = "pupils"  # what a resource formula divides by: the stage's pupils


class VerdictNotFound(NotFound):
    type = "balance-verdict-not-found"
    title = "No such balanced-development verdict"


class UnsupportedSystem(Conflict):
    type = "balance-system-unsupported"
    title = "The indicator system does not define balanced development as this computation reads it"


class InvalidWhatIf(InvalidInput):
    type = "invalid-balance-what-if"
    title = "A changed value does not fit the county's schools or the system's elements"


class EvaluatedConcurrently(Conflict):
    type = "balance-evaluated-concurrently"
    title = "The same counties were being evaluated at the same time; try again"


# ---- the rules, from the indicator system ------------------------------------------------------------


def _resource(element: DataElement) -> Resource:
    """A resource element as ``factor × base / pupils``: what its formula must reduce to (the 2017 system's
    per-100-pupils and per-pupil indicators), checked by evaluating it, never assumed."""
    assert element.formula is not None
    formula = indicators.formulas([element])[element.code]
    bases = sorted(formula.names - {STAGE_PUPILS})
    if len(bases) != 1 or STAGE_PUPILS not in formula.names:
        raise UnsupportedSystem(
            f"{element.code} = {element.formula} is not one base element over {STAGE_PUPILS}"
        )
    [base] = bases

    def at(amount: int, pupils: int) -> Decimal | None:
        try:
            return formula.evaluate({base: Decimal(amount), STAGE_PUPILS: Decimal(pupils)})
        except FormulaUndefined:
            return None

    factor = at(1, 1)
    if factor is None or at(6, 1) != 6 * factor or at(6, 3) != 2 * factor:
        raise UnsupportedSystem(
            f"{element.code} = {element.formula} is not a multiple of {base} / {STAGE_PUPILS}"
        )
    return Resource(element.code, base, float(factor))


@dataclass(frozen=True)
class System:
    """What a system's edition gives every county: the resource indicators, the county items, and all its
    standards and thresholds (each county takes the most specific prefix covering it)."""

    system: IndicatorSystem
    resources: list[Resource]
    items: list[str]  # county elements with a standard: guarantee, quality, recognition, vetoes
    school_codes: list[str]  # the school elements the computation reads
    elements: dict[str, DataElement]
    standards: list[Standard]  # most specific prefix first
    thresholds: list[Threshold]  # likewise

    def covering(self, county: str) -> tuple[str, ...]:
        """The prefixes of the system's standards and thresholds that cover the county: counties covered
        by the same ones share their rules."""
        prefixes = {s.division_prefix for s in self.standards} | {t.division_prefix for t in self.thresholds}
        return tuple(sorted(p for p in prefixes if county.startswith(p)))

    def rules(self, county: str) -> Rules:
        """The county's rules: of the prefixes covering it, the most specific one's standards and
        thresholds."""
        standards: dict[tuple[str, str | None], Standard] = {}
        for s in self.standards:
            if county.startswith(s.division_prefix):
                standards.setdefault((s.element_code, s.stage.value if s.stage else None), s)
        thresholds: dict[str, float] = {}
        for t in self.thresholds:
            if county.startswith(t.division_prefix):
                thresholds.setdefault(t.code, float(t.value))
        resource_standards: dict[tuple[str, str], float] = {}
        for resource in self.resources:
            for stage in STAGES:
                found = standards.get((resource.code, stage)) or standards.get((resource.code, None))
                if found is None:
                    raise UnsupportedSystem(f"{resource.code} has no {stage} standard for {county}")
                resource_standards[resource.code, stage] = float(found.value)
        items = {
            code: (Comparison(standards[code, None].comparison.value), float(standards[code, None].value))
            for code in self.items
            if (code, None) in standards
        }
        return Rules(self.resources, resource_standards, items, thresholds)


async def load_system(uow: UnitOfWork, key: str, edition: int | None) -> System:
    system = await indicators.system_by_key(uow, key, edition)
    elements = await indicators.elements(uow, system.id)
    standards = await indicator_repository.standards(uow.session, system.id, None)
    resources = [
        _resource(e) for e in elements if e.code.startswith(RESOURCE_PREFIX) and e.formula is not None
    ]
    if not resources:
        raise UnsupportedSystem(f"{key} has no resource indicators ({RESOURCE_PREFIX}*)")
    with_standard = {s.element_code for s in standards if s.stage is None}
    items = [
        e.code
        for e in elements
        if e.unit_kind == ValueUnit.COUNTY and e.code in with_standard and e.code != BASIC_BALANCE_YEAR
    ]
    school_codes = list(dict.fromkeys([*PUPILS.values(), *(r.base for r in resources)]))
    return System(
        system,
        resources,
        items,
        school_codes,
        {e.code: e for e in elements},
        standards,
        await indicator_repository.thresholds(uow.session, system.id, None),
    )


# ---- the inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    schools: SchoolTable
    items: dict[str, dict[str, float]]  # each county's approved county-level values


async def _inputs(
    uow: UnitOfWork, who: Principal, system: System, year: int, prefix: str, counties: Sequence[str]
) -> Inputs:
    """Every county's schools as columns of their values (the roster's pupils where the year's are not
    approved) and its county items: two statements for any number of counties."""
    codes = system.school_codes
    found = await repository.school_values(
        uow.session, who, system_id=system.system.id, year=year, prefix=prefix, element_codes=codes
    )
    table = SchoolTable(
        ids=found.ids,
        names=found.names,
        types=found.types,
        teaching_point=found.teaching_points,
        counties=found.division_codes,
        columns=codes,
        values=np.array(found.values, dtype=np.float64).reshape(len(found.ids), len(codes)),
    )
    items: dict[str, dict[str, float]] = {c: {} for c in counties}
    county_codes = [*system.items, BASIC_BALANCE_YEAR]
    for item in await values_repository.approved(
        uow.session,
        system_id=system.system.id,
        year=year,
        division_prefix=prefix,
        element_codes=county_codes,
        unit_kind=ValueUnit.COUNTY,
    ):
        if item.unit_id in items:
            items[item.unit_id][item.element_code] = float(item.value)
    return Inputs(table, items)


def _counties(divisions: DivisionTree, who: Principal, code: str) -> list[str]:
    division = require_within(divisions, who, code)
    if division.level == "county":
        return [code]
    return [d.code for d in divisions.within(code) if d.level == "county"]


def _judge(system: System, year: int, counties: Sequence[str], inputs: Inputs) -> list[tuple[Verdict, Rules]]:
    """The counties' verdicts, computed together for the counties that share their rules (all of them,
    unless an office set standards or thresholds of its own)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for county in counties:
        groups.setdefault(system.covering(county), []).append(county)
    found: dict[str, tuple[Verdict, Rules]] = {}
    for group in groups.values():
        rules = system.rules(group[0])
        table = inputs.schools
        if len(groups) > 1:
            table = table.subset(np.flatnonzero(np.isin(np.array(table.counties, dtype=object), group)))
        for result in verdicts(rules, year, group, table, inputs.items):
            found[result.county] = (result, rules)
    return [found[c] for c in counties]


async def compute(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, system: System, year: int, division_code: str
) -> list[tuple[Verdict, Rules]]:
    """The verdict of every county under ``division_code`` (a county, a city or the region), with the rules
    it was judged by. Reads two statements' worth of data, writes nothing."""
    counties = _counties(divisions, who, division_code)
    inputs = await _inputs(uow, who, system, year, jurisdiction_prefix(division_code), counties)
    return _judge(system, year, counties, inputs)


# ---- figures as stored and read ----------------------------------------------------------------------


def figures(result: Verdict, rules: Rules) -> dict[str, Any]:
    return {
        "resources": [
            {
                "code": r.code,
                "base": r.base,
                "factor": r.factor,
                "standards": {s: rules.standards[r.code, s] for s in STAGES},
            }
            for r in rules.resources
        ],
        "thresholds": {code: rules.threshold(code) for code in DEFAULT_THRESHOLDS},
        "schools": [dataclasses.asdict(s) for s in result.schools],
        "dispersion": [dataclasses.asdict(d) for d in result.dispersion],
        "criteria": [dataclasses.asdict(c) for c in result.criteria],
    }


# ---- evaluation --------------------------------------------------------------------------------------


def _finding(divisions: DivisionTree, county: str, year: int, criterion: Criterion) -> FindingCreate:
    name = divisions.require(county).name
    return FindingCreate(
        # Governance's unit registry is not projected into monitoring: the county government as given.
        unit=SupervisedUnit(
            id=f"gov-{county}", kind=UnitKind.GOVERNMENT, name=f"{name}人民政府", division_code=county
        ),
        origin_kind=OriginKind.EVALUATION,
        origin_ref=f"balance:{year}:{criterion.code}",
        category=FINDING_CATEGORY,
        severity=Severity.SERIOUS if criterion.group == "veto" else Severity.MAJOR,
        description=f"{year}年县域义务教育优质均衡发展评估未达标：{criterion.code}（{criterion.detail}）",
        requirement=f"按《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号）整改{criterion.code}，"
        "并报送整改报告",
        deadline=RECTIFICATION_DEADLINE,
    )


@dataclass(frozen=True)
class Evaluation:
    verdicts: list[dict[str, Any]]  # the rows as written
    findings_raised: int


async def evaluate(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, body: EvaluationRequest
) -> Evaluation:
    """Compute, keep and announce the verdict of every county under the division; raise a finding for each
    criterion a county newly fails."""
    system = await load_system(uow, body.system_key, body.edition)
    results = await compute(uow, who, divisions, system, body.year, body.division_code)
    counties = [r.county for r, _ in results]
    known = await repository.verdict_versions(uow.session, system.system.id, body.year, counties)
    now = uow.clock.now()
    rows: list[dict[str, Any]] = []
    for result, rules in results:
        verdict_id, version, created_at = known.get(result.county, (uuid7(), 0, now))
        rows.append(
            {
                "id": verdict_id,
                "system_id": system.system.id,
                "division_code": result.county,
                "year": body.year,
                "status": result.status,
                "failed": [c.code for c in result.failed],
                "figures": figures(result, rules),
                "computed_by": who.sub,
                "version": version + 1,
                "created_at": created_at,
                "updated_at": now,
            }
        )
    repository.save_verdicts(uow, rows)
    uow.emit_all(
        BalanceVerdictGiven(
            division=r["division_code"],
            verdict_id=str(r["id"]),
            system_id=str(r["system_id"]),
            year=body.year,
            status=r["status"].value,
            failed=r["failed"],
            version=r["version"],
        )
        for r in rows
    )
    for r in rows:
        uow.record(
            "balance_verdict.given",
            "balance_verdict",
            r["id"],
            r["division_code"],
            year=body.year,
            status=r["status"].value,
            failed=r["failed"],
        )
    raised = await _raise_findings(
        uow, who, divisions, body.year, results, {r["division_code"]: r["id"] for r in rows}
    )
    return Evaluation(rows, raised)


async def _raise_findings(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    year: int,
    results: Sequence[tuple[Verdict, Rules]],
    verdict_ids: Mapping[str, UUID],
) -> int:
    failing = [(r.county, c) for r, _ in results for c in r.failed]
    if not failing:
        return 0
    already = await repository.raised(uow.session, year, {county for county, _ in failing})
    new = [(county, c) for county, c in failing if (county, c.code) not in already]
    if not new:
        return 0
    written = await rectifications.service.raise_findings(
        uow, who, divisions, [_finding(divisions, county, year, c) for county, c in new]
    )
    now = uow.clock.now()
    repository.add_findings(
        uow,
        [
            {
                "division_code": county,
                "year": year,
                "criterion": c.code,
                "verdict_id": verdict_ids[county],
                "rectification_id": rectification.id,
                "raised_at": now,
            }
            for (county, c), rectification in zip(new, written, strict=True)
        ],
        EvaluatedConcurrently("Another evaluation raised the same findings a moment ago"),
    )
    return len(new)


# ---- what-if -----------------------------------------------------------------------------------------


def _changed(system: System, county: str, inputs: Inputs, body: WhatIfRequest) -> Inputs:
    """The county's inputs with the request's changes applied; each bad change named by its index."""
    table = inputs.schools
    rows = {school_id: i for i, school_id in enumerate(table.ids)}
    columns = list(table.columns)
    values = table.values.copy()
    items = {county: dict(inputs.items[county])}
    for i, change in enumerate(body.changes):
        at = f"changes.{i}"
        element = system.elements.get(change.element_code)
        if element is None or element.formula is not None:
            raise field_error(InvalidWhatIf, f"{at}.element_code", "is no base element of the system")
        if element.unit_kind != change.unit_kind:
            raise field_error(
                InvalidWhatIf, f"{at}.element_code", f"is an element of a {element.unit_kind.value}"
            )
        if element.min_value is not None and change.value < element.min_value:
            raise field_error(InvalidWhatIf, f"{at}.value", f"is below the minimum {element.min_value}")
        if element.max_value is not None and change.value > element.max_value:
            raise field_error(InvalidWhatIf, f"{at}.value", f"is above the maximum {element.max_value}")
        if change.unit_kind == ValueUnit.COUNTY:
            if change.unit_id != county:
                raise field_error(InvalidWhatIf, f"{at}.unit_id", f"is not the county {county}")
            items[county][change.element_code] = change.value
            continue
        if change.unit_id not in rows:
            raise field_error(InvalidWhatIf, f"{at}.unit_id", "is no school of the county's roster")
        if change.element_code not in columns:  # a school element the computation does not read
            continue
        values[rows[change.unit_id], columns.index(change.element_code)] = change.value
    return Inputs(dataclasses.replace(table, values=values), items)


async def what_if(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, county: str, body: WhatIfRequest
) -> tuple[Verdict, Rules]:
    """The verdict the county would get with the changed values. Writes nothing."""
    if divisions.require(county).level != "county":
        raise InvalidDivisionCode(f"{county} is not a county-level division")
    require_within(divisions, who, county)
    system = await load_system(uow, body.system_key, body.edition)
    inputs = await _inputs(uow, who, system, body.year, county, [county])
    [found] = _judge(system, body.year, [county], _changed(system, county, inputs, body))
    return found


# ---- reading -----------------------------------------------------------------------------------------


async def get(uow: UnitOfWork, who: Principal, verdict_id: UUID) -> BalanceVerdict:
    found = await repository.get(uow.session, who, verdict_id)
    if found is None:
        raise VerdictNotFound(f"Verdict {verdict_id} does not exist")
    return found


async def page(
    uow: UnitOfWork,
    who: Principal,
    *,
    after: UUID | None,
    limit: int,
    within: str | None,
    year: int | None,
    status: Status | None,
    updated_since: datetime | None,
) -> list[BalanceVerdict]:
    return await repository.page(
        uow.session,
        who,
        after=after,
        limit=limit + 1,
        within=within,
        year=year,
        status=status,
        updated_since=updated_since,
    )
