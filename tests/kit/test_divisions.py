"""Divisions and jurisdiction by code prefix."""

from __future__ import annotations

import pytest

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import DivisionTree, InvalidDivisionCode, covers, jurisdiction_prefix, load_tree


def test_guangxi_tree_has_the_region_its_14_cities_and_111_counties() -> None:
    tree = load_tree()
    levels = [d.level for d in tree.all()]
    assert (levels.count("region"), levels.count("city"), levels.count("county")) == (1, 14, 111)
    assert [d.name for d in tree.path("450102")] == ["广西壮族自治区", "南宁市", "兴宁区"]
    assert {d.code for d in tree.children("450100")} >= {"450102", "450103"}


@pytest.mark.parametrize(("code", "prefix"), [("450000", "45"), ("450100", "4501"), ("450102", "450102")])
def test_a_codes_jurisdiction_is_its_prefix(code: str, prefix: str) -> None:
    assert jurisdiction_prefix(code) == prefix


@pytest.mark.parametrize("code", ["45010", "4501021", "045010", "abcdef", ""])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidDivisionCode):
        jurisdiction_prefix(code)


def test_any_provinces_codes_work() -> None:
    tree = DivisionTree.from_csv(
        "code,name,level,parent_code\n440000,广东省,region,\n440100,广州市,city,440000\n"
        "440103,荔湾区,county,440100\n"
    )
    assert [d.code for d in tree.within("440100")] == ["440100", "440103"]
    assert covers("440000", "440103")
    assert not covers("450000", "440103")


def test_a_tree_with_an_unknown_parent_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        DivisionTree.from_csv("code,name,level,parent_code\n450102,兴宁区,county,450100\n")


def test_an_api_keys_division_scope_narrows_but_never_widens() -> None:
    key = Principal(
        sub="k",
        name="k",
        roles=frozenset({Role.AGENCY}),
        division="450100",
        kind="api_key",
        scope_divisions=("450102", "450200", "450000"),
    )
    # 450102 narrows Nanning; 450200 (Liuzhou) lies outside it; 450000 is cut back to Nanning.
    assert key.jurisdictions == ("4501", "450102")
    assert key.can_see("450103")
    assert not key.can_see("450203")
