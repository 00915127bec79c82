"""The arithmetic of early warning, on values in memory: which units each kind of rule singles out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dudao.ids import uuid7
from dudao.rectification.models import Severity
from monitoring.indicator.models import UnitKind
from monitoring.warning.evaluation import Data, UnitValues, apply
from monitoring.warning.models import ChangeMode, Operator, OutlierMethod, RuleKind, WarningRule

COUNTY, OTHER = "450107", "450109"


def rule(kind: RuleKind, expression: str, **fields: Any) -> WarningRule:
    return WarningRule(
        id=uuid7(),
        code=f"test.{kind.value}",
        name="测试规则",
        division_code="450100",
        system_key="balanced-2017",
        unit_kind=fields.pop("unit_kind", UnitKind.SCHOOL),
        kind=kind,
        expression=expression,
        severity=Severity.MINOR,
        **fields,
    )


def school(county: str = COUNTY, **values: int | str) -> UnitValues:
    return UnitValues(county, {code: Decimal(v) for code, v in values.items()})


def units(*values: UnitValues) -> dict[tuple[str, str], UnitValues]:
    return {("school", f"s{n}"): v for n, v in enumerate(values)}


def test_a_threshold_reads_pupils_as_every_stage_together() -> None:
    per_hundred = rule(
        RuleKind.THRESHOLD, "teachers_above_qualification / pupils * 100", operator=Operator.GT, bound=50
    )
    current = units(
        school(pupils_primary=100, pupils_junior=100, teachers_above_qualification=90),  # 45 per 100
        school(pupils_primary=100, teachers_above_qualification=60),  # 60 per 100
        school(pupils_primary=0, teachers_above_qualification=3),  # no pupils: not judged
        school(teachers_above_qualification=3),  # no pupils reported: not judged
    )
    [hit] = apply([per_hundred], Data(current))
    assert (hit.unit_id, hit.observed) == ("s1", Decimal(60))
    assert hit.details["values"] == {"pupils": 100.0, "teachers_above_qualification": 60.0}
    assert hit.message.startswith("测试规则：")


def test_a_relative_change_compares_with_last_year_and_skips_units_new_this_year() -> None:
    fell = rule(
        RuleKind.CHANGE,
        "pupils",
        operator=Operator.LT,
        bound=Decimal("-0.3"),
        change_mode=ChangeMode.RELATIVE,
    )
    current = units(school(pupils_primary=60), school(pupils_primary=90), school(pupils_primary=10))
    previous = {("school", "s0"): school(pupils_primary=100), ("school", "s1"): school(pupils_primary=100)}
    [hit] = apply([fell], Data(current, previous))
    assert hit.unit_id == "s0"
    assert hit.details == {"current": 60.0, "previous": 100.0, "change": -0.4}


def test_an_outlier_stands_out_from_its_own_county_weighted_by_pupils() -> None:
    equipment = rule(
        RuleKind.OUTLIER, "equipment_value / pupils", bound=Decimal(2), outlier_method=OutlierMethod.SIGMA
    )
    big = [school(pupils_primary=1000, equipment_value=2_000_000) for _ in range(5)]  # 2000 per pupil
    small = school(pupils_primary=20, equipment_value=400_000)  # 20,000 per pupil, but only 20 pupils
    elsewhere = [school(OTHER, pupils_primary=20, equipment_value=400_000) for _ in range(3)]
    [hit] = apply([equipment], Data(units(*big, small, *elsewhere)))
    assert (hit.unit_id, hit.division_code) == ("s5", COUNTY)
    # Weighted by pupils the county's mean stays near the large schools' 2000 per pupil.
    assert 2000 < hit.details["county"]["weighted_mean"] < 2100
    # Unweighted, the small school would pull the mean far up and hide.


def test_an_iqr_fence_flags_both_ends() -> None:
    area = rule(
        RuleKind.OUTLIER, "teaching_floor_area", bound=Decimal("1.5"), outlier_method=OutlierMethod.IQR
    )
    current = units(*(school(teaching_floor_area=v) for v in (100, 101, 102, 103, 104, 105, 500, 1)))
    assert sorted(h.unit_id for h in apply([area], Data(current))) == ["s6", "s7"]


def test_a_consistency_check_flags_data_that_contradicts_itself() -> None:
    check = rule(
        RuleKind.CONSISTENCY, "teachers_above_qualification", operator=Operator.LE, right_expression="pupils"
    )
    current = units(
        school(pupils_primary=30, teachers_above_qualification=40),
        school(pupils_primary=300, teachers_above_qualification=40),
    )
    [hit] = apply([check], Data(current))
    assert (hit.unit_id, hit.details["left"], hit.details["right"]) == ("s0", 40.0, 30.0)


def test_the_registry_check_allows_its_tolerance() -> None:
    registry = rule(RuleKind.REGISTRY, "pupils", bound=Decimal("0.05"))
    current = units(school(pupils_primary=104), school(pupils_primary=110), school(pupils_primary=50))
    hits = apply([registry], Data(current, registry={"s0": 100, "s1": 100}))
    assert [(h.unit_id, h.details) for h in hits] == [("s1", {"reported": 110.0, "registry": 100})]


def test_a_rule_covers_only_the_units_under_its_division_and_of_its_kind() -> None:
    low = rule(RuleKind.THRESHOLD, "teaching_floor_area", operator=Operator.LT, bound=0)
    low.division_code = COUNTY
    current = {
        ("school", "here"): school(teaching_floor_area=-1),
        ("school", "there"): school(OTHER, teaching_floor_area=-1),
        ("county", COUNTY): UnitValues(COUNTY, {"teaching_floor_area": Decimal(-1)}),
    }
    assert [h.unit_id for h in apply([low], Data(current))] == ["here"]
