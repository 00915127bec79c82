"""The balanced-development computation against numbers worked out by hand (RULES.md §1)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from monitoring.balance.compute import (
    Comparison,
    CountyInput,
    Resource,
    Rules,
    SchoolInput,
    Status,
    dispersion,
    school_figures,
    verdict,
)

# The 2017 system's seven indicators and standards, as M1 seeds them.
RESOURCES = [
    Resource("resource.1", "teachers_above_qualification", 100),
    Resource("resource.2", "key_teachers", 100),
    Resource("resource.3", "pe_arts_teachers", 100),
    Resource("resource.4", "teaching_floor_area", 1),
    Resource("resource.5", "sports_ground_area", 1),
    Resource("resource.6", "equipment_value", 1),
    Resource("resource.7", "multimedia_classrooms", 100),
]
PRIMARY = [4.2, 1.0, 0.9, 4.5, 7.5, 2000, 2.3]
JUNIOR = [5.3, 1.0, 0.9, 5.8, 10.2, 2500, 2.4]
STANDARDS = {
    **{(r.code, "primary"): v for r, v in zip(RESOURCES, PRIMARY, strict=True)},
    **{(r.code, "junior"): v for r, v in zip(RESOURCES, JUNIOR, strict=True)},
}
ITEMS = {
    **{f"guarantee.2_{i}": (Comparison.EQUAL, 1.0) for i in range(1, 16)},
    **{f"quality.3_{i}": (Comparison.EQUAL, 1.0) for i in range(1, 10)},
    "recognition.4_1": (Comparison.AT_LEAST, 0.85),
    **{f"veto.{v}": (Comparison.EQUAL, 0.0) for v in ("exam_admission", "irregular_choice", "key_schools")},
}
RULES = Rules(RESOURCES, STANDARDS, ITEMS)
ALL_MET = {**dict.fromkeys((c for c in ITEMS if not c.startswith("veto")), 1.0), "recognition.4_1": 0.9}
ALL_MET.update(dict.fromkeys((c for c in ITEMS if c.startswith("veto")), 0.0))


def primary_school(school_id: str, pupils: float, scale: float = 1.0, **values: float) -> SchoolInput:
    """A primary school whose seven indicators are ``scale`` × the primary standards, unless given."""
    base = {r.base: s * pupils * scale / r.factor for r, s in zip(RESOURCES, PRIMARY, strict=True)}
    return SchoolInput(
        school_id, f"学校{school_id}", "primary", False, {"pupils_primary": pupils, **base, **values}
    )


def county(*schools: SchoolInput, items: dict[str, float] | None = None) -> CountyInput:
    return CountyInput("450102", 2025, schools, ALL_MET if items is None else items)


def criterion(result: Any, code: str) -> Any:
    return next(c for c in result.criteria if c.code == code)


def test_the_cv_is_weighted_by_enrolment_as_worked_by_hand() -> None:
    # Equipment per pupil 2000, 3000, 2500 at 100, 300 and 600 pupils:
    # X̄ = (100·2000 + 300·3000 + 600·2500) / 1000 = 2600;
    # S² = 0.1·600² + 0.3·400² + 0.6·100² = 36000 + 48000 + 6000 = 90000, S = 300; CV = 300 / 2600.
    found = dispersion("primary", "resource.6", [(100, 2000), (300, 3000), (600, 2500)], 0.5)
    assert found.mean == pytest.approx(2600)
    assert found.deviation == pytest.approx(300)
    assert found.cv == pytest.approx(300 / 2600)
    # Unweighted it would be √((500² + 500² + 0) / 3) / 2500 = 0.1633: not what the rules ask.
    assert found.cv != pytest.approx(math.sqrt(500_000 / 3) / 2500)
    assert found.status == Status.MET


def test_each_indicator_has_its_own_cv_never_their_average() -> None:
    # Equal schools but for equipment: 1000 and 9000 yuan per pupil at 100 pupils each (the standard is 2000,
    # so the poorer one misses it by half and fails the school rule too). Its CV: X̄ = 5000, S = 4000, 0.8;
    # the other six are 0, so their average, 0.114, would pass: the verdict fails on resource.6 alone.
    poor = primary_school("a", 100, scale=2, equipment_value=100_000)
    rich = primary_school("b", 100, scale=2, equipment_value=900_000)
    result = verdict(RULES, county(poor, rich))
    cvs = {d.resource: d.cv for d in result.dispersion if d.stage == "primary"}
    assert cvs["resource.6"] == pytest.approx(0.8)
    assert all(cvs[f"resource.{n}"] == pytest.approx(0) for n in (1, 2, 3, 4, 5, 7))
    assert sum(v for v in cvs.values() if v is not None) / 7 < 0.5
    assert criterion(result, "cv.primary.resource.6").status == Status.NOT_MET
    assert criterion(result, "cv.primary.resource.1").status == Status.MET
    assert result.status == Status.NOT_MET


def test_a_nine_year_school_is_split_by_pupil_weight() -> None:
    # 600 primary and 400 junior pupils weigh 600·1 + 400·1.1 = 1040: 21 key teachers give the primary
    # stage 21·600/1040 teachers, 21·100/1040 = 2.0192 per 100 pupils, the junior 21·1.1·100/1040 = 2.2212.
    school = SchoolInput(
        "n",
        "九年一贯制学校",
        "nine_year",
        False,
        {"pupils_primary": 600, "pupils_junior": 400, "key_teachers": 21},
    )
    stages = {s.stage: s for s in school_figures(RULES, school).stages}
    assert stages["primary"].values[1] == pytest.approx(2100 / 1040)
    assert stages["junior"].values[1] == pytest.approx(2310 / 1040)
    assert stages["primary"].pupils == 600
    # Configurable ratios: 1:1.5 gives 2100/1200 and 3150/1200.
    rules = Rules(RESOURCES, STANDARDS, ITEMS, {"weight.nine_year.junior": 1.5})
    stages = {s.stage: s for s in school_figures(rules, school).stages}
    assert stages["junior"].values[1] == pytest.approx(3150 / 1200)


def test_a_complete_secondary_school_gives_its_senior_share_away() -> None:
    # 500 junior and 500 senior pupils at 1 : 1.2 weigh 1100; 11 multimedia rooms leave the junior stage
    # 11·100/1100 = 1.0 per 100 pupils, and there is no senior stage to judge.
    school = SchoolInput(
        "c",
        "完全中学",
        "complete_secondary",
        False,
        {"pupils_junior": 500, "pupils_senior": 500, "multimedia_classrooms": 11},
    )
    [junior] = school_figures(RULES, school).stages
    assert junior.stage == "junior"
    assert junior.values[6] == pytest.approx(1.0)


def test_the_per_school_rule_six_of_seven_and_none_below_85_percent() -> None:
    # Six at standard exactly (42 teachers for 1000 pupils is 4.2 per 100: met despite floating point), the
    # seventh at 90%: passes. At 80%: fails. Two missed, both at 90%: fails (only five met).
    at_90 = primary_school("a", 1000, equipment_value=0.9 * 2000 * 1000)
    at_80 = primary_school("b", 1000, equipment_value=0.8 * 2000 * 1000)
    two = primary_school("c", 1000, equipment_value=0.9 * 2000 * 1000, key_teachers=9)
    [a], [b], [c] = (school_figures(RULES, s).stages for s in (at_90, at_80, two))
    assert (a.indicators_met, a.status) == (6, Status.MET)
    assert a.ratios[5] == pytest.approx(0.9)
    assert (b.indicators_met, b.status) == (6, Status.NOT_MET)
    assert (c.indicators_met, c.status) == (5, Status.NOT_MET)
    result = verdict(RULES, county(at_90, at_80))
    assert criterion(result, "schools.primary").status == Status.NOT_MET
    assert "学校b" in criterion(result, "schools.primary").detail


def test_schools_out_of_scope() -> None:
    small_point = SchoolInput("p", "教学点", "primary", True, {"pupils_primary": 49})
    big_point = primary_school("q", 50)
    big_point = SchoolInput("q", "大教学点", "primary", True, big_point.values)
    special = SchoolInput("s", "特殊教育学校", "special_education", False, {"pupils_primary": 300})
    vocational = SchoolInput("v", "职业学校", "vocational", False, {})
    excluded = {
        s.school_id: school_figures(RULES, s).excluded for s in (small_point, big_point, special, vocational)
    }
    assert excluded == {
        "p": "teaching point with fewer than 50 pupils",
        "q": None,
        "s": "special-education school",
        "v": "vocational school",
    }
    # An excluded school weighs nothing in the CV.
    result = verdict(RULES, county(primary_school("a", 100), small_point, special))
    assert {d.schools for d in result.dispersion} == {1}


def test_a_county_meeting_everything_and_the_items_vetoes_and_satisfaction() -> None:
    schools = [primary_school("a", 400, scale=1.1), primary_school("b", 600, scale=1.2)]
    assert verdict(RULES, county(*schools)).status == Status.MET
    unhappy = verdict(RULES, county(*schools, items={**ALL_MET, "recognition.4_1": 0.84}))
    assert [c.code for c in unhappy.failed] == ["recognition.4_1"]
    vetoed = verdict(RULES, county(*schools, items={**ALL_MET, "veto.key_schools": 1.0}))
    assert [(c.code, c.group) for c in vetoed.failed] == [("veto.key_schools", "veto")]
    guarantee = verdict(RULES, county(*schools, items={**ALL_MET, "guarantee.2_7": 0.0}))
    assert [c.code for c in guarantee.failed] == ["guarantee.2_7"]
    missing = {k: v for k, v in ALL_MET.items() if k != "quality.3_9"}
    incomplete = verdict(RULES, county(*schools, items=missing))
    assert incomplete.status == Status.MISSING
    assert criterion(incomplete, "quality.3_9").status == Status.MISSING


def test_missing_values_make_the_verdict_incomplete_not_passed() -> None:
    gap = primary_school("a", 100)
    gap = SchoolInput(
        "a", gap.name, "primary", False, {k: v for k, v in gap.values.items() if k != "key_teachers"}
    )
    [stage] = school_figures(RULES, gap).stages
    assert stage.values[1] is None
    assert (stage.indicators_met, stage.status) == (6, Status.MISSING)
    result = verdict(RULES, county(gap, primary_school("b", 100)))
    assert criterion(result, "cv.primary.resource.2").status == Status.MISSING
    assert result.status == Status.MISSING


def test_three_years_after_basic_balance_when_the_year_is_known() -> None:
    schools = [primary_school("a", 100)]
    assert not [c for c in verdict(RULES, county(*schools)).criteria if c.group == "application"]
    early = verdict(RULES, county(*schools, items={**ALL_MET, "basic_balance.recognized_year": 2023}))
    assert [c.code for c in early.failed] == ["application.years_after_basic"]
    late = verdict(RULES, county(*schools, items={**ALL_MET, "basic_balance.recognized_year": 2022}))
    assert late.status == Status.MET
