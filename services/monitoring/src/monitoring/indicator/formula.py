"""The formula language of derived data elements, parsed by a small recursive-descent parser (never
``eval``) and evaluated in Decimal arithmetic.

    formula    := comparison
    comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]      1 when true, 0 when false
    sum        := product {("+" | "-") product}
    product    := unary {("*" | "/") unary}
    unary      := ("-" | "+") unary | primary
    primary    := number | code | function "(" formula {"," formula} ")" | "(" formula ")"
    function   := min | max | abs | if                                   if(cond, a, b): a when cond ≠ 0

A code is an element's: letters, digits and ``_`` in dot-separated parts, starting with a letter
(``pupils_primary``, ``resource.1``). ``if`` evaluates only the branch it takes, so
``if(pupils > 0, key_teachers / pupils * 100, 0)`` never divides by zero.
"""

from __future__ import annotations

import decimal
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

from dudao.errors import InvalidInput

MAX_LENGTH = 2_000  # characters of a formula
MAX_DEPTH = 60  # nesting of parentheses, calls and unary signs: the parser's recursion stays bounded

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)"
    r"|(?P<op><=|>=|==|!=|[-+*/(),<>]))"
)
_CONTEXT = decimal.Context(
    prec=28, traps=[decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow]
)
ZERO, ONE = Decimal(0), Decimal(1)


class FormulaSyntaxError(InvalidInput):
    """The text is not a formula; ``position`` is the 0-based offset where reading stopped."""

    type = "invalid-formula"
    title = "The formula cannot be read"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


Reason = Literal["division_by_zero", "missing_value", "overflow"]


class FormulaUndefined(InvalidInput):
    """A formula has no value for these values: a division by zero, an element without a value, or a
    result too large. The clear error value of an evaluation, named by ``reason``."""

    type = "formula-undefined"
    title = "The formula has no value for these values"

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason: Reason = reason


class FormulaCycle(InvalidInput):
    """Derived elements that are defined through one another: ``cycle`` runs from one back to itself."""

    type = "formula-cycle"
    title = "Derived elements are defined through one another"

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("the formulas go round: " + " → ".join(cycle))
        self.cycle = cycle


Values = Mapping[str, Decimal]


class Node(ABC):
    """A parsed expression."""

    @abstractmethod
    def value(self, values: Values) -> Decimal:
        """The expression's value over ``values``; FormulaUndefined where it has none."""


@dataclass(frozen=True)
class Number(Node):
    number: Decimal

    def value(self, values: Values) -> Decimal:
        return self.number


@dataclass(frozen=True)
class Name(Node):
    code: str

    def value(self, values: Values) -> Decimal:
        found = values.get(self.code)
        if found is None:
            raise FormulaUndefined("missing_value", f"{self.code} has no value")
        return found


@dataclass(frozen=True)
class Negative(Node):
    operand: Node

    def value(self, values: Values) -> Decimal:
        return _CONTEXT.minus(self.operand.value(values))


COMPARISONS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": Decimal.__lt__,
    "<=": Decimal.__le__,
    ">": Decimal.__gt__,
    ">=": Decimal.__ge__,
    "==": Decimal.__eq__,
    "!=": Decimal.__ne__,
}
ARITHMETIC: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": _CONTEXT.add,
    "-": _CONTEXT.subtract,
    "*": _CONTEXT.multiply,
    "/": _CONTEXT.divide,
}


@dataclass(frozen=True)
class Comparison(Node):
    operator: str
    left: Node
    right: Node

    def value(self, values: Values) -> Decimal:
        return ONE if COMPARISONS[self.operator](self.left.value(values), self.right.value(values)) else ZERO


@dataclass(frozen=True)
class Step:
    operator: str
    operand: Node
    text: str  # the source up to and including this step, for the error that names it


@dataclass(frozen=True)
class Chain(Node):
    """``a + b - c`` or ``a * b / c``, left to right: a flat chain rather than a deep tree, so that a long
    sum never nests deeper than its parentheses do."""

    first: Node
    steps: tuple[Step, ...]

    def value(self, values: Values) -> Decimal:
        result = self.first.value(values)
        for step in self.steps:
            operand = step.operand.value(values)
            if step.operator == "/" and operand.is_zero():
                raise FormulaUndefined("division_by_zero", f"division by zero in {step.text}")
            try:
                result = ARITHMETIC[step.operator](result, operand)
            except decimal.Overflow:
                raise FormulaUndefined("overflow", f"{step.text} is too large") from None
        return result


# The functions and their arity: the fewest and the most arguments (None: any number).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "if": (3, 3),
}


@dataclass(frozen=True)
class Call(Node):
    function: str
    arguments: tuple[Node, ...]

    def value(self, values: Values) -> Decimal:
        if self.function == "if":
            condition, then, otherwise = self.arguments
            return (otherwise if condition.value(values).is_zero() else then).value(values)
        evaluated = [a.value(values) for a in self.arguments]
        if self.function == "abs":
            return _CONTEXT.abs(evaluated[0])
        return min(evaluated) if self.function == "min" else max(evaluated)


TokenKind = Literal["number", "name", "op", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    start: int


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while True:
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            rest = text[at:]
            if not rest.strip():
                return [*tokens, Token("end", "", len(text))]
            start = at + len(rest) - len(rest.lstrip())
            raise FormulaSyntaxError(f"unexpected {text[start]!r}", start)
        kind = cast(TokenKind, match.lastgroup)  # one of the pattern's three groups
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        at = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.token
        self.at += 1
        return token

    def expect(self, op: str) -> None:
        if self.token.text != op or self.token.kind != "op":
            raise FormulaSyntaxError(f"expected {op!r}, found {self._found()}", self.token.start)
        self.at += 1

    def _found(self) -> str:
        return "the end" if self.token.kind == "end" else repr(self.token.text)

    def _span(self, start: int) -> str:
        end = self.tokens[self.at - 1]
        return self.text[start : end.start + len(end.text)]

    def formula(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaSyntaxError(f"nested deeper than {MAX_DEPTH}", self.token.start)
        node = self.sum()
        if self.token.kind == "op" and self.token.text in COMPARISONS:
            node = Comparison(self.take().text, node, self.sum())
            if self.token.kind == "op" and self.token.text in COMPARISONS:
                raise FormulaSyntaxError("comparisons do not chain: add parentheses", self.token.start)
        self.depth -= 1
        return node

    def sum(self) -> Node:
        return self.chain("+-", self.product)

    def product(self) -> Node:
        return self.chain("*/", self.unary)

    def chain(self, operators: str, operand: Callable[[], Node]) -> Node:
        start = self.token.start
        first, steps = operand(), []
        while self.token.kind == "op" and self.token.text in operators:
            operator = self.take().text
            right = operand()
            steps.append(Step(operator, right, self._span(start)))
        return Chain(first, tuple(steps)) if steps else first

    def unary(self) -> Node:
        if self.token.kind == "op" and self.token.text in "+-":
            sign = self.take().text
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FormulaSyntaxError(f"nested deeper than {MAX_DEPTH}", self.token.start)
            operand = self.unary()
            self.depth -= 1
            return Negative(operand) if sign == "-" else operand
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Number(Decimal(token.text))
        if token.kind == "name" and self.token.text == "(":
            return self.call(token)
        if token.kind == "name":
            return Name(token.text)
        if token.text == "(":
            node = self.formula()
            self.expect(")")
            return node
        found = "the end" if token.kind == "end" else repr(token.text)
        raise FormulaSyntaxError(f"expected a number, an element code or '(', found {found}", token.start)

    def call(self, name: Token) -> Node:
        arity = FUNCTIONS.get(name.text)
        if arity is None:
            known = ", ".join(FUNCTIONS)
            raise FormulaSyntaxError(f"{name.text} is not a function (there are {known})", name.start)
        self.expect("(")
        arguments = [self.formula()]
        while self.token.text == "," and self.token.kind == "op":
            self.at += 1
            arguments.append(self.formula())
        self.expect(")")
        least, most = arity
        if len(arguments) < least or (most is not None and len(arguments) > most):
            wanted = f"{least}" if least == most else f"at least {least}"
            plural = "" if least == 1 else "s"
            raise FormulaSyntaxError(
                f"{name.text} takes {wanted} argument{plural}, not {len(arguments)}", name.start
            )
        return Call(name.text, tuple(arguments))


def _names(node: Node) -> frozenset[str]:
    if isinstance(node, Name):
        return frozenset({node.code})
    if isinstance(node, Negative):
        return _names(node.operand)
    if isinstance(node, Comparison):
        return _names(node.left) | _names(node.right)
    if isinstance(node, Chain):
        return _names(node.first).union(*(_names(s.operand) for s in node.steps))
    if isinstance(node, Call):
        return frozenset().union(*(_names(a) for a in node.arguments))
    return frozenset()


@dataclass(frozen=True)
class Formula:
    text: str
    root: Node
    names: frozenset[str]  # the element codes it reads

    def evaluate(self, values: Values) -> Decimal:
        """Its value for ``values`` (by element code), or ``FormulaUndefined`` saying why there is none."""
        return self.root.value(values)


def parse(text: str) -> Formula:
    """The formula ``text`` reads, or ``FormulaSyntaxError`` saying where it stops making sense."""
    if len(text) > MAX_LENGTH:
        raise FormulaSyntaxError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    root = parser.formula()
    if parser.token.kind != "end":
        raise FormulaSyntaxError(f"expected an operator, found {parser._found()}", parser.token.start)
    return Formula(text.strip(), root, _names(root))


def evaluation_order(formulas: Mapping[str, Formula]) -> list[str]:
    """The derived codes, each after every derived code its formula reads; ``FormulaCycle`` if there is
    no such order. (Codes a formula reads that are not in ``formulas`` are base values.)"""
    order: list[str] = []
    state: dict[str, Literal["open", "done"]] = {}

    def visit(code: str, path: list[str]) -> None:
        # Depth-first; the path is explicit so that a cycle can be named. Depth is bounded by the number
        # of derived elements of one system (a few hundred at most).
        if state.get(code) == "done":
            return
        if state.get(code) == "open":
            raise FormulaCycle([*path[path.index(code) :], code])
        state[code] = "open"
        for name in sorted(formulas[code].names):
            if name in formulas:
                visit(name, [*path, code])
        state[code] = "done"
        order.append(code)

    for code in formulas:
        visit(code, [])
    return order


def derive(formulas: Mapping[str, Formula], values: Values) -> dict[str, Decimal | FormulaUndefined]:
    """Every derived element's value over the base ``values``, in dependency order: a value, or the
    ``FormulaUndefined`` that says why it has none (a formula over an undefined element has its error)."""
    known: dict[str, Decimal] = dict(values)
    results: dict[str, Decimal | FormulaUndefined] = {}
    for code in evaluation_order(formulas):
        failed = next(
            (r for n in sorted(formulas[code].names) if isinstance(r := results.get(n), FormulaUndefined)),
            None,
        )
        if failed is not None:
            results[code] = failed
            continue
        try:
            known[code] = results[code] = formulas[code].evaluate(known)
        except FormulaUndefined as undefined:
            results[code] = undefined
    return results
