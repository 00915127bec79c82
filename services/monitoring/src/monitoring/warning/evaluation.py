"""The arithmetic of early warning: the rules applied to one year's approved values, set-wise, in memory.

No SQL and no writes: the service hands in the values (a county's, or the region's at night) and turns
the hits into alerts. Expressions are M1's formulas; ``pupils`` in one is the unit's pupils over every
stage reported (``pupils_primary + pupils_junior + pupils_senior``), which is also the weight of a school
in its county's enrolment-weighted mean.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dudao.divisions.tree import covers
from monitoring.indicator.formula import Formula, FormulaUndefined, parse
from monitoring.indicator.models import UnitKind
from monitoring.warning.models import ChangeMode, Operator, OutlierMethod, RuleKind, WarningRule

PUPILS = "pupils"
STAGE_PUPILS = ("pupils_primary", "pupils_junior", "pupils_senior")
# Fewer units than this in a county make no distribution to stand out from.
OUTLIER_MIN_UNITS = 3

COMPARE: dict[Operator, Callable[[Decimal, Decimal], bool]] = {
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
}
SYMBOL = {
    Operator.LT: "<",
    Operator.LE: "≤",
    Operator.GT: ">",
    Operator.GE: "≥",
    Operator.EQ: "=",
    Operator.NE: "≠",
}

UnitKey = tuple[str, str]  # (unit_kind, unit_id)


@dataclass
class UnitValues:
    """One unit's approved values for a year."""

    division_code: str
    values: dict[str, Decimal] = field(default_factory=dict)

    def with_pupils(self) -> dict[str, Decimal]:
        stages = [self.values[c] for c in STAGE_PUPILS if c in self.values]
        return {**self.values, PUPILS: sum(stages, Decimal(0))} if stages else self.values


@dataclass(frozen=True)
class Hit:
    rule: WarningRule
    unit_kind: str
    unit_id: str
    division_code: str
    observed: Decimal | None
    details: dict[str, Any]
    message: str


def gather(rows: Iterable[Any]) -> dict[UnitKey, UnitValues]:
    """Approved value rows (``unit_kind, unit_id, division_code, element_code, value``) by unit."""
    units: dict[UnitKey, UnitValues] = {}
    for row in rows:
        unit = units.setdefault((row.unit_kind, row.unit_id), UnitValues(row.division_code))
        if row.value is not None:  # a blank cell of a form
            unit.values[row.element_code] = Decimal(row.value)
    return units


def names(rule: WarningRule) -> set[str]:
    """The elements a rule reads (``pupils`` stands for the stage counts)."""
    used = set(parse(rule.expression).names)
    if rule.right_expression is not None:
        used |= parse(rule.right_expression).names
    if PUPILS in used or rule.kind in (RuleKind.OUTLIER, RuleKind.REGISTRY):
        used = (used - {PUPILS}) | set(STAGE_PUPILS)
    return used


def _value(formula: Formula, values: Mapping[str, Decimal]) -> Decimal | None:
    """The expression over a unit's values; None when one is missing or the arithmetic is undefined
    (a division by zero pupils): such a unit is not judged."""
    if not formula.names.issubset(values):
        return None
    try:
        return formula.evaluate(values)
    except FormulaUndefined:
        return None


def _num(value: Decimal) -> float:
    return float(value)


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.4g}"


def _shown(formula: Formula, values: Mapping[str, Decimal]) -> dict[str, float]:
    return {name: _num(values[name]) for name in sorted(formula.names)}


@dataclass(frozen=True)
class Data:
    """What the rules are applied to: the year's values, last year's and the registry's enrolment."""

    current: Mapping[UnitKey, UnitValues]
    previous: Mapping[UnitKey, UnitValues] = field(default_factory=dict)
    registry: Mapping[str, int] = field(default_factory=dict)  # school id → enrolment on the roster


def apply(rules: Sequence[WarningRule], data: Data) -> list[Hit]:
    """Every hit of every rule on the units it covers."""
    hits: list[Hit] = []
    for rule in rules:
        units = {
            key: unit
            for key, unit in data.current.items()
            if key[0] == rule.unit_kind and covers(rule.division_code, unit.division_code)
        }
        hits.extend(_KINDS[rule.kind](rule, units, data))
    return hits


def _hit(
    rule: WarningRule, key: UnitKey, unit: UnitValues, observed: Decimal | None, message: str, **details: Any
) -> Hit:
    return Hit(rule, key[0], key[1], unit.division_code, observed, details, f"{rule.name}：{message}")


def _threshold(rule: WarningRule, units: Mapping[UnitKey, UnitValues], data: Data) -> list[Hit]:
    formula, op, bound = parse(rule.expression), _op(rule), _bound(rule)
    hits = []
    for key, unit in units.items():
        values = unit.with_pupils()
        x = _value(formula, values)
        if x is not None and COMPARE[op](x, bound):
            text = f"{rule.expression} = {_text(x)}，{SYMBOL[op]} {_text(bound)}"
            hits.append(_hit(rule, key, unit, x, text, values=_shown(formula, values), bound=_num(bound)))
    return hits


def _change(rule: WarningRule, units: Mapping[UnitKey, UnitValues], data: Data) -> list[Hit]:
    formula, op, bound = parse(rule.expression), _op(rule), _bound(rule)
    relative = rule.change_mode == ChangeMode.RELATIVE
    hits = []
    for key, unit in units.items():
        before = data.previous.get(key)
        x = _value(formula, unit.with_pupils())
        p = None if before is None else _value(formula, before.with_pupils())
        if x is None or p is None or (relative and p == 0):
            continue
        change = (x - p) / p if relative else x - p
        if COMPARE[op](change, bound):
            shown = f"{_num(change):+.1%}" if relative else _text(change)
            text = (
                f"{rule.expression} 由上年 {_text(p)} 变为 {_text(x)}（{shown}），{SYMBOL[op]} {_text(bound)}"
            )
            hits.append(
                _hit(rule, key, unit, change, text, current=_num(x), previous=_num(p), change=_num(change))
            )
    return hits


def _outlier(rule: WarningRule, units: Mapping[UnitKey, UnitValues], data: Data) -> list[Hit]:
    formula, k = parse(rule.expression), _bound(rule)
    by_county: dict[str, list[tuple[UnitKey, UnitValues, Decimal, float]]] = defaultdict(list)
    for key, unit in units.items():
        values = unit.with_pupils()
        x = _value(formula, values)
        if x is not None:
            # Schools weigh by their pupils; counties (and schools without any) count once.
            weight = _num(values.get(PUPILS, Decimal(0))) if rule.unit_kind == UnitKind.SCHOOL else 1.0
            by_county[unit.division_code].append((key, unit, x, weight if weight > 0 else 1.0))
    hits = []
    for county, members in by_county.items():
        if len(members) < OUTLIER_MIN_UNITS:
            continue
        xs = [_num(x) for _, _, x, _ in members]
        if rule.outlier_method == OutlierMethod.SIGMA:
            weights = [w for *_, w in members]
            total = sum(weights)
            mean = sum(w * x for w, x in zip(weights, xs, strict=True)) / total
            sd = math.sqrt(sum(w * (x - mean) ** 2 for w, x in zip(weights, xs, strict=True)) / total)
            low, high = mean - float(k) * sd, mean + float(k) * sd
            county_stats = {"weighted_mean": mean, "weighted_sd": sd, "units": len(members)}
        else:
            q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
            low, high = q1 - float(k) * (q3 - q1), q3 + float(k) * (q3 - q1)
            county_stats = {"q1": q1, "q3": q3, "units": len(members)}
        for (key, unit, x, _), fx in zip(members, xs, strict=True):
            if fx < low or fx > high:
                text = (
                    f"{rule.expression} = {_text(x)}，在本县（{county}）正常范围 {low:.4g}～{high:.4g} 之外"
                )
                hits.append(_hit(rule, key, unit, x, text, value=fx, county=county_stats, low=low, high=high))
    return hits


def _consistency(rule: WarningRule, units: Mapping[UnitKey, UnitValues], data: Data) -> list[Hit]:
    left, right, op = parse(rule.expression), parse(_right(rule)), _op(rule)
    hits = []
    for key, unit in units.items():
        values = unit.with_pupils()
        lx, rx = _value(left, values), _value(right, values)
        if lx is not None and rx is not None and not COMPARE[op](lx, rx):
            text = (
                f"应有 {rule.expression} {SYMBOL[op]} {rule.right_expression}，"
                f"实为 {_text(lx)} 与 {_text(rx)}，数据自相矛盾"
            )
            shown = _shown(left, values) | _shown(right, values)
            hits.append(_hit(rule, key, unit, lx, text, values=shown, left=_num(lx), right=_num(rx)))
    return hits


def _registry(rule: WarningRule, units: Mapping[UnitKey, UnitValues], data: Data) -> list[Hit]:
    formula, tolerance = parse(rule.expression), _bound(rule)
    hits = []
    for key, unit in units.items():
        enrolment = data.registry.get(key[1])
        reported = _value(formula, unit.with_pupils())
        if enrolment is None or reported is None:
            continue
        registered = Decimal(enrolment)
        if abs(reported - registered) > tolerance * max(registered, Decimal(1)):
            text = f"填报 {_text(reported)} 人，学籍登记 {enrolment} 人，相差超过 {_num(tolerance):.0%}"
            hits.append(_hit(rule, key, unit, reported, text, reported=_num(reported), registry=enrolment))
    return hits


def _op(rule: WarningRule) -> Operator:
    assert rule.operator is not None  # ck_warning_rule_operator_iff_compared
    return rule.operator


def _bound(rule: WarningRule) -> Decimal:
    assert rule.bound is not None  # ck_warning_rule_bound_unless_consistency
    return Decimal(rule.bound)


def _right(rule: WarningRule) -> str:
    assert rule.right_expression is not None  # ck_warning_rule_right_iff_consistency
    return rule.right_expression


_KINDS: dict[RuleKind, Callable[[WarningRule, Mapping[UnitKey, UnitValues], Data], list[Hit]]] = {
    RuleKind.THRESHOLD: _threshold,
    RuleKind.CHANGE: _change,
    RuleKind.OUTLIER: _outlier,
    RuleKind.CONSISTENCY: _consistency,
    RuleKind.REGISTRY: _registry,
}
