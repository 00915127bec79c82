"""The formula language: exact Decimal arithmetic, clear errors, never more than its grammar."""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest

from monitoring.indicator.formula import (
    MAX_DEPTH,
    FormulaCycle,
    FormulaSyntaxError,
    FormulaUndefined,
    derive,
    evaluation_order,
    parse,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("10 - 4 - 3", "3"),
        ("12 / 4 / 3", "1"),
        ("-2 * -3", "6"),
        ("--2", "2"),
        ("+2 - -2", "4"),
        ("0.1 + 0.2", "0.3"),
        ("min(3, 1, 2) + max(4, 9) + abs(-5)", "15"),
        ("if(1 < 2, 10, 1 / 0)", "10"),
        ("if(2 <= 1, 1 / 0, 20)", "20"),
        ("(3 == 3) + (3 != 3) + (2 >= 2) + (1 > 2)", "2"),
        ("resource.1 * 2", "8.4"),
        ("teachers_above_qualification / pupils * 100", "4.2"),
    ],
)
def test_formulas_compute_exactly_in_decimal(text: str, expected: str) -> None:
    values = {"resource.1": D("4.2"), "teachers_above_qualification": D(21), "pupils": D(500)}
    assert parse(text).evaluate(values) == D(expected)


def test_a_formula_names_the_element_codes_it_reads() -> None:
    formula = parse("if(pupils > 0, key_teachers / pupils * 100, guarantee.2_1) + min(a, 2)")
    assert formula.names == {"pupils", "key_teachers", "guarantee.2_1", "a"}


def test_division_by_zero_is_an_error_value_naming_the_division() -> None:
    with pytest.raises(FormulaUndefined) as caught:
        parse("teaching_floor_area / pupils").evaluate({"teaching_floor_area": D(900), "pupils": D(0)})
    assert caught.value.reason == "division_by_zero"
    assert "teaching_floor_area / pupils" in caught.value.detail


def test_a_missing_value_and_an_overflow_are_error_values() -> None:
    with pytest.raises(FormulaUndefined) as missing:
        parse("a + b").evaluate({"a": D(1)})
    assert (missing.value.reason, missing.value.detail) == ("missing_value", "b has no value")
    with pytest.raises(FormulaUndefined) as overflow:
        parse("a * a").evaluate({"a": D("1e999999")})
    assert overflow.value.reason == "overflow"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "expected a number", 0),
        ("1 +", "found the end", 3),
        ("2x", "expected an operator, found 'x'", 1),
        ("(1 + 2", "expected ')'", 6),
        ("1 + 2)", "expected an operator, found ')'", 5),
        ("a < b < c", "comparisons do not chain", 6),
        ("eval(1)", "eval is not a function", 0),
        ("__import__('os')", "unexpected '_'", 0),
        ("abs(1, 2)", "abs takes 1 argument, not 2", 0),
        ("if(1, 2)", "if takes 3 arguments, not 2", 0),
        ("min()", "expected a number", 4),
        ("resource.", "unexpected '.'", 8),
        ("1e5", "expected an operator, found 'e5'", 1),
        ("a ** 2", "expected a number", 3),
        ("a; b", "unexpected ';'", 1),
        ("1,2", "expected an operator, found ','", 1),
    ],
)
def test_what_is_not_a_formula_is_refused_where_it_stops(text: str, message: str, position: int) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.position == position


def test_nesting_is_bounded_but_long_chains_are_not_deep() -> None:
    with pytest.raises(FormulaSyntaxError, match="nested deeper"):
        parse("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FormulaSyntaxError, match="nested deeper"):
        parse("-" * (MAX_DEPTH + 1) + "1")
    assert parse("+".join(["x"] * 900)).evaluate({"x": D(1)}) == 900
    with pytest.raises(FormulaSyntaxError, match="longer than"):
        parse("1" + " + 1" * 600)


def test_cycles_are_named_and_orders_put_inputs_first() -> None:
    formulas = {"r": parse("x / p"), "p": parse("a + b"), "s": parse("r * 2 + p")}
    order = evaluation_order(formulas)
    assert order.index("p") < order.index("r") < order.index("s")
    with pytest.raises(FormulaCycle) as caught:
        evaluation_order({"a": parse("b + 1"), "b": parse("c * 2"), "c": parse("a"), "d": parse("1")})
    assert caught.value.cycle == ["a", "b", "c", "a"]
    with pytest.raises(FormulaCycle):
        evaluation_order({"a": parse("a + 1")})


def test_derive_carries_an_error_to_what_depends_on_it() -> None:
    formulas = {"pupils": parse("p1 + p2"), "ratio": parse("t / pupils * 100"), "twice": parse("ratio * 2")}
    ok = derive(formulas, {"p1": D(300), "p2": D(200), "t": D(21)})
    assert ok == {"pupils": D(500), "ratio": D("4.2"), "twice": D("8.4")}
    failed = derive(formulas, {"p1": D(0), "p2": D(0), "t": D(21)})
    assert failed["pupils"] == 0
    assert isinstance(failed["ratio"], FormulaUndefined)
    assert failed["twice"] is failed["ratio"]


# Fuzzing ---------------------------------------------------------------------------------------------------


def _expression(rng: random.Random, depth: int) -> tuple[str, Fraction | None]:
    """A random formula and its value computed independently in exact fractions (None: undefined)."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.5:
            number = rng.choice(["0", "1", "2", "7", "0.5", "12.25", "100"])
            return number, Fraction(number)
        name = rng.choice(["x", "y.1", "z_2"])
        return name, VALUES[name]
    kind = rng.choice(["+", "-", "*", "/", "neg", "paren", "min", "max", "abs", "if"])
    left, a = _expression(rng, depth - 1)
    right, b = _expression(rng, depth - 1)
    if kind == "neg":
        return f"-({left})", None if a is None else -a
    if kind == "paren":
        return f"({left})", a
    if kind == "abs":
        return f"abs({left})", None if a is None else abs(a)
    if kind == "if":
        third, c = _expression(rng, depth - 1)
        text = f"if(({left}) > ({right}), {right}, {third})"
        return text, None if a is None or b is None else (b if a > b else c)
    text = f"{kind}({left}, {right})" if kind in ("min", "max") else f"({left}) {kind} ({right})"
    if a is None or b is None or (kind == "/" and b == 0):
        return text, None
    return text, ARITHMETIC[kind](a, b)


ARITHMETIC: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "min": min,
    "max": max,
}
VALUES = {"x": Fraction(3), "y.1": Fraction("2.5"), "z_2": Fraction(-4)}


def test_fuzzed_formulas_agree_with_exact_fractions() -> None:
    rng = random.Random(20170906)
    values = {k: D(str(float(v))) for k, v in VALUES.items()}
    for _ in range(2_000):
        text, expected = _expression(rng, 4)
        formula = parse(text)
        if expected is None:
            with pytest.raises(FormulaUndefined):
                formula.evaluate(values)
            continue
        got = formula.evaluate(values)
        # Decimal keeps 28 significant digits: equal to the exact value to well within that.
        assert abs(Fraction(got) - expected) <= abs(expected) * Fraction(1, 10**20) + Fraction(1, 10**20), (
            text
        )


def test_fuzzed_garbage_is_refused_as_syntax_and_nothing_else() -> None:
    rng = random.Random(6)
    alphabet = string.ascii_letters + string.digits + "_.+-*/(),<>=! \t'\"[]{}:;@#$%^&~`\\|?" + "中文"
    tokens = ["a", "b.1", "1", "2.5", "+", "-", "*", "/", "(", ")", ",", "<", ">=", "==", "min", "if", "abs"]
    positions: list[tuple[int, int]] = []
    for n in range(3_000):
        text = (
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            if n % 2
            else " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 12)))
        )
        try:
            formula = parse(text)
        except FormulaSyntaxError as refused:
            positions.append((refused.position, len(text)))
            continue
        with contextlib.suppress(FormulaUndefined):
            assert isinstance(formula.evaluate({"a": D(1), "b.1": D(0)}), Decimal)
    assert all(0 <= at <= length for at, length in positions)
    assert 0 < len(positions) < 3_000  # some of the token soups are formulas
