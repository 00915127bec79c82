"""The county high-quality balanced development verdict (优质均衡, 教督〔2017〕6号, RULES.md §1), computed.

Pure: schools as columns of their year's values, each county's items and the rules as numbers in; every
figure of each county's verdict out. No database, no clock: the service feeds it, the what-if feeds it
changed values. All the counties of a region are computed at once, as arrays (numpy): 25,000 schools'
seven indicators per stage, the per-school rule and each indicator's CV per county and stage.

Arithmetic is float64, not Decimal: the figures are ratios of counts and areas. A value exactly at its
standard (42 teachers for 1,000 pupils is 4.2 per 100) must meet it, so comparisons allow a relative
``TOLERANCE``. A value not approved is NaN in the arrays and None in the figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

TOLERANCE = 1e-9
AT_STANDARD = 1 - TOLERANCE  # a ratio to a (positive) standard that meets it

PRIMARY, JUNIOR, SENIOR = "primary", "junior", "senior"
STAGES = (PRIMARY, JUNIOR)  # the compulsory stages the verdict judges
PUPILS = {PRIMARY: "pupils_primary", JUNIOR: "pupils_junior", SENIOR: "pupils_senior"}

# The stages each compulsory-education school type teaches (roster ``school_type``); every other type
# (kindergarten, senior, vocational, special education) is out of scope.
STAGES_TAUGHT: dict[str, tuple[str, ...]] = {
    "primary": (PRIMARY,),
    "junior": (JUNIOR,),
    "nine_year": (PRIMARY, JUNIOR),
    "complete_secondary": (JUNIOR, SENIOR),
    "twelve_year": (PRIMARY, JUNIOR, SENIOR),
}
EXCLUDED_TYPES = {
    "special_education": "special-education school",
    "vocational": "vocational school",
}
NOT_COMPULSORY = "not a compulsory-education school"

# The thresholds the rules are applied with, by M1's codes: the defaults where a system has none.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "cv.primary": 0.50,
    "cv.junior": 0.45,
    "school.indicators_met": 6,
    "school.floor_ratio": 0.85,
    "weight.nine_year.primary": 1,
    "weight.nine_year.junior": 1.1,
    "weight.complete_secondary.junior": 1,
    "weight.complete_secondary.senior": 1.2,
    "weight.twelve_year.primary": 1,
    "weight.twelve_year.junior": 1.1,
    "weight.twelve_year.senior": 1.32,
    "scope.teaching_point_min_pupils": 50,
    "application.years_after_basic": 3,
}
# A county element holding the year of its basic-balance recognition (基本均衡), when collected.
BASIC_BALANCE_YEAR = "basic_balance.recognized_year"


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"  # data needed to judge it was not (yet) approved


_BY_CODE = (Status.MET, Status.NOT_MET, Status.MISSING)  # a status array's 0, 1, 2


class Comparison(StrEnum):  # as M1's standards compare
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EQUAL = "equal"


@dataclass(frozen=True)
class Resource:
    """A resource indicator: ``factor`` × ``base`` / the stage's pupils (per 100 pupils, or per pupil)."""

    code: str  # resource.1 … resource.7
    base: str  # the base element it is computed from
    factor: float


@dataclass(frozen=True)
class Rules:
    """What a county is judged by: its resource indicators with their standards per stage (positive), the
    standards of its county-level items (guarantee, quality, recognition, vetoes) and the thresholds."""

    resources: Sequence[Resource]
    standards: Mapping[tuple[str, str], float]  # (resource code, stage) → at least this
    items: Mapping[str, tuple[Comparison, float]]  # county element code → its standard
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def threshold(self, code: str) -> float:
        return self.thresholds.get(code, DEFAULT_THRESHOLDS[code])

    def weight(self, school_type: str, stage: str) -> float:
        """A stage's pupil weight in a school of the type (1 where the type teaches one stage, 0 where it
        does not teach it)."""
        taught = STAGES_TAUGHT.get(school_type, ())
        if stage not in taught:
            return 0.0
        return 1.0 if len(taught) == 1 else self.threshold(f"weight.{school_type}.{stage}")

    @cached_property
    def standard_rows(self) -> dict[str, Floats]:
        return {s: np.array([self.standards[r.code, s] for r in self.resources]) for s in STAGES}


# ---- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolTable:
    """Schools as columns, one row each: ``values`` holds the year's approved base values, a column per
    code of ``columns`` (the pupils per stage among them), NaN where none is approved."""

    ids: Sequence[str]
    names: Sequence[str]
    types: Sequence[str]
    teaching_point: Sequence[bool]
    counties: Sequence[str]
    columns: Sequence[str]
    values: Floats

    def subset(self, rows: Ints) -> SchoolTable:
        pick = rows.tolist()
        return SchoolTable(
            ids=[self.ids[i] for i in pick],
            names=[self.names[i] for i in pick],
            types=[self.types[i] for i in pick],
            teaching_point=[self.teaching_point[i] for i in pick],
            counties=[self.counties[i] for i in pick],
            columns=self.columns,
            values=self.values[rows],
        )

    def column(self, code: str) -> Floats:
        if code not in self.columns:
            return np.full(len(self.ids), np.nan)
        return self.values[:, list(self.columns).index(code)]


@dataclass(frozen=True)
class SchoolInput:
    """One school, for a county given school by school (a what-if, a test)."""

    school_id: str
    name: str
    school_type: str
    teaching_point: bool
    values: Mapping[str, float]  # approved base values by element code (pupils_* among them)


@dataclass(frozen=True)
class CountyInput:
    code: str
    year: int
    schools: Sequence[SchoolInput]
    items: Mapping[str, float]  # the county's approved county-level values by element code


def table_of(counties: Sequence[CountyInput]) -> SchoolTable:
    schools = [(c.code, s) for c in counties for s in c.schools]
    columns = sorted({code for _, s in schools for code in s.values})
    values = np.array(
        [[s.values.get(code, math.nan) for code in columns] for _, s in schools], dtype=np.float64
    ).reshape(len(schools), len(columns))
    return SchoolTable(
        ids=[s.school_id for _, s in schools],
        names=[s.name for _, s in schools],
        types=[s.school_type for _, s in schools],
        teaching_point=[s.teaching_point for _, s in schools],
        counties=[c for c, _ in schools],
        columns=columns,
        values=values,
    )


# ---- figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageFigures:
    """A school's stage: its pupils, the seven indicators (None where a value is missing), each one's ratio
    to its standard, and the per-school rule."""

    stage: str
    pupils: float
    values: list[float | None]  # in the order of ``Rules.resources``
    ratios: list[float | None]  # value / standard
    indicators_met: int
    status: Status


@dataclass(frozen=True, slots=True)
class SchoolFigures:
    school_id: str
    name: str
    school_type: str
    teaching_point: bool
    excluded: str | None  # why the school is out of scope, or None
    stages: list[StageFigures]


@dataclass(frozen=True, slots=True)
class Dispersion:
    """The enrolment-weighted coefficient of variation (差异系数) of one indicator in one stage."""

    stage: str
    resource: str
    schools: int
    pupils: float
    mean: float | None  # Σ PᵢXᵢ / P
    deviation: float | None  # √(Σ (Pᵢ/P)(Xᵢ − X̄)²)
    cv: float | None  # deviation / mean
    limit: float
    status: Status


@dataclass(frozen=True, slots=True)
class Criterion:
    """One thing the county must meet; a failed one is a finding. ``code`` names it within the verdict:
    ``schools.primary``, ``cv.junior.resource.4``, ``guarantee.2_3``, ``veto.key_schools`` …"""

    code: str
    group: str  # schools | cv | guarantee | quality | recognition | veto | application
    status: Status
    detail: str


@dataclass(frozen=True)
class _Stage:
    """One stage of every school, as arrays: which schools it judges, their pupils, indicators, ratios,
    indicators met and the per-school rule's status code."""

    judged: Bools
    pupils: Floats
    values: Floats  # (schools, resources)
    ratios: Floats
    met: Ints
    status: Ints


@dataclass(frozen=True)
class _Computed:
    table: SchoolTable
    excluded: list[str | None]
    stages: dict[str, _Stage]

    def school(self, i: int) -> SchoolFigures:
        t = self.table
        figures = [
            StageFigures(
                stage,
                float(np.nan_to_num(s.pupils[i])),
                _listed(s.values[i]),
                _listed(s.ratios[i]),
                int(s.met[i]),
                _BY_CODE[s.status[i]],
            )
            for stage, s in self.stages.items()
            if s.judged[i]
        ]
        return SchoolFigures(
            t.ids[i], t.names[i], t.types[i], bool(t.teaching_point[i]), self.excluded[i], figures
        )


def _listed(row: Floats) -> list[float | None]:
    return [None if math.isnan(v) else v for v in row.tolist()]


@dataclass(frozen=True)
class Verdict:
    county: str
    year: int
    status: Status  # not_met if any criterion is; else missing if any is; else met
    dispersion: list[Dispersion]
    criteria: list[Criterion]
    _computed: _Computed = field(repr=False, compare=False)
    _rows: Sequence[int] = field(repr=False, compare=False)

    @cached_property
    def schools(self) -> list[SchoolFigures]:
        """Every school of the county with its figures (built when asked: a region has 25,000)."""
        return [self._computed.school(i) for i in self._rows]

    @property
    def failed(self) -> list[Criterion]:
        return [c for c in self.criteria if c.status == Status.NOT_MET]


def _meets(value: float, comparison: Comparison, bound: float) -> bool:
    if comparison == Comparison.AT_LEAST:
        return value >= bound - TOLERANCE * abs(bound)
    if comparison == Comparison.AT_MOST:
        return value <= bound + TOLERANCE * abs(bound)
    return abs(value - bound) <= TOLERANCE * max(abs(bound), 1.0)


def overall(statuses: Iterable[Status]) -> Status:
    seen = set(statuses)
    if Status.NOT_MET in seen:
        return Status.NOT_MET
    return Status.MISSING if Status.MISSING in seen else Status.MET


# ---- schools ----------------------------------------------------------------------------------------


def _schools(rules: Rules, table: SchoolTable) -> _Computed:
    """Every school's stages. A combined school's resources are split between its stages by pupil weight:
    stage s gets the share wₛPₛ / Σ wₜPₜ of each, over its Pₛ pupils (the senior stage's share is split off
    and not judged)."""
    n = len(table.ids)
    types = np.array(table.types, dtype=object)
    kinds = sorted(set(table.types))
    weights = {s: np.zeros(n) for s in (PRIMARY, JUNIOR, SENIOR)}
    for kind in kinds:
        of_kind = types == kind
        for stage, w in weights.items():
            w[of_kind] = rules.weight(kind, stage)
    pupils = {s: table.column(PUPILS[s]) for s in weights}
    taught = {s: w > 0 for s, w in weights.items()}
    compulsory = np.isin(types, list(STAGES_TAUGHT))
    total = sum(np.where(taught[s], np.nan_to_num(pupils[s]), 0.0) for s in weights)
    small_point = np.array(table.teaching_point, dtype=bool) & (
        total < rules.threshold("scope.teaching_point_min_pupils")
    )
    in_scope = compulsory & ~small_point
    minimum = rules.threshold("scope.teaching_point_min_pupils")
    excluded: list[str | None] = [
        None
        if in_scope[i]
        else f"teaching point with fewer than {minimum:g} pupils"
        if compulsory[i]
        else EXCLUDED_TYPES.get(table.types[i], NOT_COMPULSORY)
        for i in range(n)
    ]
    # Without every taught stage's pupils the split, and so every indicator, is unknown.
    split = np.logical_and.reduce([~taught[s] | ~np.isnan(pupils[s]) for s in weights])
    weighted = sum(weights[s] * np.nan_to_num(pupils[s]) for s in weights)
    bases = np.column_stack([table.column(r.base) for r in rules.resources]) if n else np.zeros((0, 7))
    factors = np.array([r.factor for r in rules.resources])
    floor = rules.threshold("school.floor_ratio") - TOLERANCE
    needed = rules.threshold("school.indicators_met")
    stages: dict[str, _Stage] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for stage in STAGES:
            # Taught and with pupils (or pupils unknown): a stage without pupils has nothing to judge.
            judged = in_scope & taught[stage] & ~(pupils[stage] <= 0)
            share = np.where(split & (weighted > 0), weights[stage] / weighted, np.nan)
            values = bases * factors * share[:, None]
            ratios = values / rules.standard_rows[stage]
            met = (ratios >= AT_STANDARD).sum(axis=1)
            unknown = np.isnan(ratios).sum(axis=1)
            failed = (ratios < floor).any(axis=1) | (met + unknown < needed)  # whatever the missing hold
            status = np.where(failed, 1, np.where(unknown > 0, 2, 0))
            stages[stage] = _Stage(judged, pupils[stage], values, ratios, met, status)
    return _Computed(table, excluded, stages)


# ---- the counties -----------------------------------------------------------------------------------


def dispersion(
    stage: str, resource: str, samples: Sequence[tuple[float, float | None]], limit: float
) -> Dispersion:
    """The CV of one indicator over the schools of a stage, each weighted by its pupils (Pᵢ, Xᵢ):
    X̄ = Σ PᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), CV = S / X̄. Missing if any school's value is."""
    p = np.array([s[0] for s in samples], dtype=np.float64)
    x = np.array([math.nan if s[1] is None else s[1] for s in samples], dtype=np.float64)
    [found] = _dispersions(stage, resource, np.zeros(len(p), dtype=np.int64), 1, p, x, limit)
    return found


def _dispersions(
    stage: str, resource: str, group: Ints, groups: int, p: Floats, x: Floats, limit: float
) -> list[Dispersion]:
    """``dispersion`` of every group (county) at once: row i of ``p`` and ``x`` belongs to ``group[i]``."""

    def per_group(weights: Floats) -> Floats:
        return np.bincount(group, weights=weights, minlength=groups).astype(np.float64)

    schools = np.bincount(group, minlength=groups)
    total = per_group(p)
    unknown = per_group((np.isnan(x) | np.isnan(p)).astype(np.float64)) > 0
    known_p, known_x = np.nan_to_num(p), np.nan_to_num(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = per_group(known_p * known_x) / total
        deviation = np.sqrt(per_group(known_p / total[group] * (known_x - mean[group]) ** 2))
        cv = deviation / mean
    found = []
    for g in range(groups):
        n, pupils = int(schools[g]), float(total[g])
        if unknown[g] or math.isnan(pupils) or pupils <= 0:
            found.append(Dispersion(stage, resource, n, pupils, None, None, None, limit, Status.MISSING))
        elif mean[g] <= 0:  # no resource at all in the stage: nothing to balance, and every school misses it
            found.append(
                Dispersion(stage, resource, n, pupils, mean[g], deviation[g], None, limit, Status.NOT_MET)
            )
        else:
            status = Status.MET if cv[g] <= limit + TOLERANCE * limit else Status.NOT_MET
            found.append(
                Dispersion(
                    stage,
                    resource,
                    n,
                    pupils,
                    float(mean[g]),
                    float(deviation[g]),
                    float(cv[g]),
                    limit,
                    status,
                )
            )
    return found


def _school_criterion(computed: _Computed, stage: str, judged: Ints) -> Criterion:
    status = computed.stages[stage].status[judged]
    names = computed.table.names
    failing = [names[i] for i in judged[status == 1].tolist()]
    unknown = [names[i] for i in judged[status == 2].tolist()]
    if failing:
        return Criterion(
            f"schools.{stage}",
            "schools",
            Status.NOT_MET,
            f"{len(failing)} of {len(judged)} schools fail the per-school rule: " + "、".join(failing[:20]),
        )
    if unknown:
        return Criterion(
            f"schools.{stage}",
            "schools",
            Status.MISSING,
            f"{len(unknown)} of {len(judged)} schools lack data: " + "、".join(unknown[:20]),
        )
    return Criterion(
        f"schools.{stage}", "schools", Status.MET, f"all {len(judged)} schools meet the per-school rule"
    )


def _item_criteria(rules: Rules, items: Mapping[str, float]) -> list[Criterion]:
    criteria = []
    for code, (comparison, bound) in rules.items.items():
        value = items.get(code)
        group = code.split(".", 1)[0]
        if value is None:
            criteria.append(Criterion(code, group, Status.MISSING, "no approved value"))
        else:
            met = Status.MET if _meets(value, comparison, bound) else Status.NOT_MET
            criteria.append(Criterion(code, group, met, f"{value:g} ({comparison} {bound:g})"))
    return criteria


def _application(rules: Rules, year: int, items: Mapping[str, float]) -> list[Criterion]:
    """Three years or more after basic-balance recognition, judged only where the year is collected."""
    recognized = items.get(BASIC_BALANCE_YEAR)
    if recognized is None:
        return []
    years = rules.threshold("application.years_after_basic")
    status = Status.MET if year - recognized >= years else Status.NOT_MET
    detail = f"basic balance recognised in {recognized:g}; {years:g} years must pass"
    return [Criterion("application.years_after_basic", "application", status, detail)]


def verdicts(
    rules: Rules,
    year: int,
    counties: Sequence[str],
    table: SchoolTable,
    items: Mapping[str, Mapping[str, float]],
) -> list[Verdict]:
    """Every county's verdict under the same rules, at once: each school's stages, each indicator's CV per
    county and stage (never averaged over indicators), and each criterion."""
    computed = _schools(rules, table)
    # Each county's rows, as slices of the rows sorted by county.
    codes = np.array(table.counties, dtype=object)
    order = np.argsort(codes, kind="stable")
    starts = (
        np.searchsorted(codes[order], counties, side="left") if len(order) else np.zeros(len(counties), int)
    )
    ends = np.searchsorted(codes[order], counties, side="right") if len(order) else starts
    # Each indicator's CV in every county at once: the rows judged in a stage, grouped by their county.
    county_of = np.full(len(codes), -1, dtype=np.int64)
    for g, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        county_of[order[start:end]] = g
    spreads: dict[str, list[list[Dispersion]]] = {}
    for stage in STAGES:
        s = computed.stages[stage]
        rows = np.flatnonzero(s.judged & (county_of >= 0))
        limit = rules.threshold(f"cv.{stage}")
        by_resource = [
            _dispersions(
                stage, r.code, county_of[rows], len(counties), s.pupils[rows], s.values[rows, k], limit
            )
            for k, r in enumerate(rules.resources)
        ]
        spreads[stage] = [list(found) for found in zip(*by_resource, strict=True)]  # county → resources
    out = []
    for g, (county, start, end) in enumerate(zip(counties, starts.tolist(), ends.tolist(), strict=True)):
        rows = order[start:end]
        spread: list[Dispersion] = []
        criteria: list[Criterion] = []
        for stage in STAGES:
            judged = rows[computed.stages[stage].judged[rows]]
            if not len(judged):
                continue
            criteria.append(_school_criterion(computed, stage, judged))
            spread += spreads[stage][g]
        if not criteria:
            criteria.append(Criterion("schools.in_scope", "schools", Status.MISSING, "no school in scope"))
        for d in spread:
            cv = "unknown" if d.cv is None else f"{d.cv:.4f}"
            detail = f"CV {cv} (limit {d.limit:g}, {d.schools} schools)"
            criteria.append(Criterion(f"cv.{d.stage}.{d.resource}", "cv", d.status, detail))
        found_items = items.get(county, {})
        criteria += _item_criteria(rules, found_items) + _application(rules, year, found_items)
        status = overall(c.status for c in criteria)
        out.append(Verdict(county, year, status, spread, criteria, computed, rows.tolist()))
    return out


def verdict(rules: Rules, county: CountyInput) -> Verdict:
    """One county's verdict from its schools given one by one."""
    [found] = verdicts(rules, county.year, [county.code], table_of([county]), {county.code: county.items})
    return found


def school_figures(rules: Rules, school: SchoolInput) -> SchoolFigures:
    """One school's figures, as a county's verdict shows them."""
    return _schools(rules, table_of([CountyInput("", 0, [school], {})])).school(0)
