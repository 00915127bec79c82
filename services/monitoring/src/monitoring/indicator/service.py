"""The rules of the indicator library. No SQL, no commit.

An office records an indicator system for its own jurisdiction; the seeded systems are the region's. A
system is a tree of indicators measured by data elements, base ones collected and derived ones computed
by formulas, judged against standards per stage and division prefix, with the thresholds its rules are
applied with. An edition never changes: an office revises its system by recording the next edition.

Collection, balanced development, early warning and surveys read a system through ``system_by_key``,
``elements``, ``standards`` and ``thresholds``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from dudao.auth.principal import Principal
from dudao.contracts.monitoring import IndicatorSystemRecorded
from dudao.divisions.tree import DivisionTree, jurisdiction_prefix
from dudao.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from dudao.etag import require_match
from dudao.ids import uuid7
from dudao.uow import UnitOfWork
from monitoring.indicator import repository
from monitoring.indicator.formula import (
    Formula,
    FormulaCycle,
    FormulaSyntaxError,
    FormulaUndefined,
    derive,
    evaluation_order,
    parse,
)
from monitoring.indicator.models import (
    DataElement,
    EducationLevel,
    ElementKind,
    Indicator,
    IndicatorSystem,
    Stage,
    Standard,
    Threshold,
    UnitKind,
)
from monitoring.indicator.schemas import (
    ElementDefinition,
    EvaluationRequest,
    IndicatorNode,
    SystemContent,
    SystemCreate,
)


class SystemNotFound(NotFound):
    type = "indicator-system-not-found"
    title = "No such indicator system"


class InvalidSystem(InvalidInput):
    type = "invalid-indicator-system"
    title = "The indicator system does not hold together"


class SystemKeyTaken(Conflict):
    type = "indicator-system-key-taken"
    title = "An indicator system with this key exists: record its next edition instead"


class SystemEditionTaken(Conflict):
    type = "indicator-system-edition-taken"
    title = "Another edition of this system was recorded at the same time; read it and try again"


class NotTheSystemOwner(Forbidden):
    type = "not-the-indicator-system-owner"
    title = "Only the office that recorded a system records its next edition"


class InvalidEvaluation(InvalidInput):
    type = "invalid-indicator-evaluation"
    title = "The values do not fit the system's elements"


# Reads for the other domains -----------------------------------------------------------------------------


async def system_by_key(uow: UnitOfWork, key: str, edition: int | None = None) -> IndicatorSystem:
    """The edition of the system ``key``, by default its newest."""
    system = await repository.system_by_key(uow.session, key, edition)
    if system is None:
        raise SystemNotFound(
            f"There is no indicator system {key}" + (f" edition {edition}" if edition else "")
        )
    return system


async def system(uow: UnitOfWork, system_id: UUID) -> IndicatorSystem:
    found = await repository.system_by_id(uow.session, system_id)
    if found is None:
        raise SystemNotFound(f"Indicator system {system_id} does not exist")
    return found


async def elements(uow: UnitOfWork, system_id: UUID) -> list[DataElement]:
    """The system's data elements in the order they were defined."""
    return await repository.elements(uow.session, system_id)


def formulas(found: Iterable[DataElement]) -> dict[str, Formula]:
    """The derived elements' formulas, parsed (they were checked when the edition was recorded)."""
    return {e.code: parse(e.formula) for e in found if e.formula is not None}


StandardKey = tuple[str, Stage | None]


async def standards(uow: UnitOfWork, system_id: UUID, division_code: str) -> dict[StandardKey, Standard]:
    """The standard of each (element, stage) that applies in ``division_code``: of the prefixes that cover
    it, the most specific. A stage of ``None`` is the element's standard for every stage."""
    found: dict[StandardKey, Standard] = {}
    for standard in await repository.standards(uow.session, system_id, division_code):
        found.setdefault((standard.element_code, standard.stage), standard)
    return found


def standard_for(
    found: Mapping[StandardKey, Standard], element_code: str, stage: Stage | None
) -> Standard | None:
    """An element's standard for ``stage``, or for every stage when it has none of its own."""
    return found.get((element_code, stage)) or found.get((element_code, None))


async def thresholds(uow: UnitOfWork, system_id: UUID, division_code: str) -> dict[str, Decimal]:
    """Each threshold of the system by code, the most specific prefix covering ``division_code`` winning."""
    found: dict[str, Decimal] = {}
    for threshold in await repository.thresholds(uow.session, system_id, division_code):
        found.setdefault(threshold.code, threshold.value)
    return found


# Recording ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    indicators: list[dict[str, Any]]
    elements: list[dict[str, Any]]
    standards: list[dict[str, Any]]
    thresholds: list[dict[str, Any]]


def _check_elements(defined: Sequence[ElementDefinition]) -> dict[str, Formula]:
    codes: set[str] = set()
    for i, element in enumerate(defined):
        if element.code in codes:
            raise field_error(InvalidSystem, f"elements.{i}.code", f"{element.code} names two elements")
        codes.add(element.code)
        if (
            element.min_value is not None
            and element.max_value is not None
            and element.min_value > element.max_value
        ):
            raise field_error(InvalidSystem, f"elements.{i}.max_value", "is below min_value")
    parsed: dict[str, Formula] = {}
    at: dict[str, int] = {}
    for i, element in enumerate(defined):
        if element.formula is None:
            continue
        try:
            parsed[element.code] = formula = parse(element.formula)
        except FormulaSyntaxError as bad:
            raise field_error(InvalidSystem, f"elements.{i}.formula", bad.detail) from None
        unknown = sorted(formula.names - codes)
        if unknown:
            raise field_error(
                InvalidSystem,
                f"elements.{i}.formula",
                f"reads no element of the system: {', '.join(unknown)}",
            )
        at[element.code] = i
    try:
        evaluation_order(parsed)
    except FormulaCycle as cycle:
        raise field_error(InvalidSystem, f"elements.{at[cycle.cycle[0]]}.formula", cycle.detail) from None
    return parsed


def _tree_rows(
    system_id: UUID, nodes: Sequence[IndicatorNode], depth: int, elements: set[str]
) -> list[dict[str, Any]]:
    """The tree depth-first, each node with its level, parent and position."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(node: IndicatorNode, at: str, level: int, parent: str | None) -> None:
        if node.code in seen:
            raise field_error(InvalidSystem, f"{at}.code", f"{node.code} names two indicators")
        seen.add(node.code)
        if level > depth:
            raise field_error(InvalidSystem, at, f"is at level {level}; level_names names only {depth}")
        if node.element is not None and node.element not in elements:
            raise field_error(InvalidSystem, f"{at}.element", f"{node.element} is no element of the system")
        rows.append(
            {
                "system_id": system_id,
                "code": node.code,
                "parent_code": parent,
                "level": level,
                "position": len(rows),
                "name": node.name,
                "element_code": node.element,
                "veto": node.veto,
                "description": node.description,
            }
        )
        for c, child in enumerate(node.children):
            walk(child, f"{at}.children.{c}", level + 1, node.code)

    for n, node in enumerate(nodes):
        walk(node, f"indicators.{n}", 1, None)
    return rows


def _comparable(prefix: str, home: str) -> bool:
    """A prefix within the office's jurisdiction, or one that covers it (the region's "45")."""
    return prefix.startswith(home) or home.startswith(prefix)


def _standard_rows(system_id: UUID, body: SystemContent, codes: set[str], home: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, Stage | None, str]] = set()
    for i, standard in enumerate(body.standards):
        at = f"standards.{i}"
        if standard.element not in codes:
            raise field_error(
                InvalidSystem, f"{at}.element", f"{standard.element} is no element of the system"
            )
        if not _comparable(standard.division_prefix, home):
            raise field_error(InvalidSystem, f"{at}.division_prefix", "is outside your jurisdiction")
        key = (standard.element, standard.stage, standard.division_prefix)
        if key in seen:
            raise field_error(InvalidSystem, at, "a second standard for the same element, stage and prefix")
        seen.add(key)
        rows.append(
            {
                "id": uuid7(),
                "system_id": system_id,
                "element_code": standard.element,
                "stage": standard.stage,
                "division_prefix": standard.division_prefix,
                "comparison": standard.comparison,
                "value": standard.value,
            }
        )
    return rows


def _threshold_rows(system_id: UUID, body: SystemContent, home: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, threshold in enumerate(body.thresholds):
        at = f"thresholds.{i}"
        if not _comparable(threshold.division_prefix, home):
            raise field_error(InvalidSystem, f"{at}.division_prefix", "is outside your jurisdiction")
        if (threshold.code, threshold.division_prefix) in seen:
            raise field_error(InvalidSystem, at, "a second threshold with the same code and prefix")
        seen.add((threshold.code, threshold.division_prefix))
        rows.append({"system_id": system_id, **threshold.model_dump()})
    return rows


def check_system(who: Principal, system_id: UUID, body: SystemContent) -> _Rows:
    """The rows of an edition once its codes are unique, its formulas sound and its standards apply."""
    parsed = _check_elements(body.elements)
    codes = {e.code for e in body.elements}
    home = jurisdiction_prefix(who.division)
    elements = [
        {
            "id": uuid7(),
            "system_id": system_id,
            "position": position,
            "kind": ElementKind.DERIVED if e.code in parsed else ElementKind.BASE,
            **e.model_dump(),
        }
        for position, e in enumerate(body.elements)
    ]
    return _Rows(
        _tree_rows(system_id, body.indicators, len(body.level_names), codes),
        elements,
        _standard_rows(system_id, body, codes, home),
        _threshold_rows(system_id, body, home),
    )


def _record(uow: UnitOfWork, who: Principal, key: str, edition: int, body: SystemContent) -> dict[str, Any]:
    system_id = uuid7()
    rows = check_system(who, system_id, body)
    system = {
        "id": system_id,
        "key": key,
        "edition": edition,
        "name": body.name,
        "education_level": body.education_level,
        "office_division": who.division,
        "document": body.document,
        "level_names": body.level_names,
        "description": body.description,
        "created_by": who.sub,
        "created_at": uow.clock.now(),
    }
    repository.add_system(
        uow,
        system,
        {
            repository.INDICATORS: rows.indicators,
            repository.ELEMENTS: rows.elements,
            repository.STANDARDS: rows.standards,
            repository.THRESHOLDS: rows.thresholds,
        },
        edition_taken=SystemEditionTaken(f"Edition {edition} of {key} was just recorded"),
    )
    uow.emit(
        IndicatorSystemRecorded(
            division=who.division,
            system_id=str(system_id),
            key=key,
            edition=edition,
            education_level=body.education_level.value,
        )
    )
    uow.record(
        "indicator_system.recorded",
        "indicator_system",
        system_id,
        who.division,
        key=key,
        edition=edition,
        indicators=len(rows.indicators),
        elements=len(rows.elements),
    )
    return system


async def record_system(uow: UnitOfWork, who: Principal, body: SystemCreate) -> dict[str, Any]:
    """A new system, edition 1, for the caller's office."""
    if await repository.system_by_key(uow.session, body.key, None) is not None:
        raise SystemKeyTaken(f"{body.key} exists: record its next edition on its latest")
    return _record(uow, who, body.key, 1, body)


async def record_edition(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    system_id: UUID,
    if_match: str | None,
    body: SystemContent,
) -> dict[str, Any]:
    """The next edition of the system: ``If-Match`` carries the ETag of the latest edition the office
    read, so that two offices' revisions never silently pass each other."""
    base = await get_system(uow, who, divisions, system_id)
    latest = await repository.system_by_key(uow.session, base.key, None)
    assert latest is not None  # base is an edition of it
    if latest.office_division != who.division:
        raise NotTheSystemOwner(f"{base.key} is the system of the office of {latest.office_division}")
    require_match(if_match, latest.id, latest.edition)
    return _record(uow, who, base.key, latest.edition + 1, body)


# Reading over HTTP ----------------------------------------------------------------------------------------


def _above(divisions: DivisionTree, who: Principal) -> list[str]:
    return [d.code for d in divisions.path(who.division)]


async def get_system(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, system_id: UUID
) -> IndicatorSystem:
    """An edition the caller may use: its own jurisdiction's, or one of the offices above it."""
    found = await repository.get_system(uow.session, who, _above(divisions, who), system_id)
    if found is None:
        raise SystemNotFound(f"Indicator system {system_id} does not exist")
    return found


@dataclass(frozen=True)
class SystemDetail:
    system: IndicatorSystem
    indicators: list[Indicator]
    standards: list[Standard]
    thresholds: list[Threshold]


async def detail(uow: UnitOfWork, who: Principal, divisions: DivisionTree, system_id: UUID) -> SystemDetail:
    found = await get_system(uow, who, divisions, system_id)
    return SystemDetail(
        found,
        await repository.indicators(uow.session, found.id),
        await repository.standards(uow.session, found.id, None),
        await repository.thresholds(uow.session, found.id, None),
    )


async def system_page(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    *,
    after: UUID | None,
    limit: int,
    key: str | None,
    education_level: EducationLevel | None,
    updated_since: datetime | None,
    only: Collection[UUID] | None = None,
) -> list[IndicatorSystem]:
    """A page of the systems the caller may use; with ``only``, of these (an agency's commission's)."""
    return await repository.system_page(
        uow.session,
        who,
        _above(divisions, who),
        after=after,
        limit=limit + 1,
        key=key,
        education_level=education_level,
        updated_since=updated_since,
        only=only,
    )


async def element_page(
    uow: UnitOfWork,
    who: Principal,
    divisions: DivisionTree,
    system_id: UUID,
    *,
    after: UUID | None,
    limit: int,
    kind: ElementKind | None,
    unit_kind: UnitKind | None,
) -> list[DataElement]:
    found = await get_system(uow, who, divisions, system_id)
    return await repository.element_page(
        uow.session, found.id, after=after, limit=limit + 1, kind=kind, unit_kind=unit_kind
    )


@dataclass(frozen=True)
class Outcome:
    value: Decimal | FormulaUndefined
    standard: Standard | None

    @property
    def met(self) -> bool | None:
        if self.standard is None or isinstance(self.value, FormulaUndefined):
            return None
        return self.standard.met(self.value)


@dataclass(frozen=True)
class Evaluation:
    elements: dict[str, Outcome]
    formula: Outcome | None


def _check_values(defined: Mapping[str, DataElement], values: Mapping[str, Decimal]) -> None:
    for code, value in values.items():
        element = defined.get(code)
        at = f"values.{code}"
        if element is None:
            raise field_error(InvalidEvaluation, at, "is no element of the system")
        if element.formula is not None:
            raise field_error(InvalidEvaluation, at, "is derived: give the base values it is computed from")
        if element.min_value is not None and value < element.min_value:
            raise field_error(InvalidEvaluation, at, f"is below the minimum {element.min_value}")
        if element.max_value is not None and value > element.max_value:
            raise field_error(InvalidEvaluation, at, f"is above the maximum {element.max_value}")


def _own_formula(text: str, defined: Mapping[str, DataElement]) -> Formula:
    try:
        own = parse(text)
    except FormulaSyntaxError as bad:
        raise field_error(InvalidEvaluation, "formula", bad.detail) from None
    unknown = sorted(own.names - defined.keys())
    if unknown:
        raise field_error(
            InvalidEvaluation, "formula", f"reads no element of the system: {', '.join(unknown)}"
        )
    return own


async def evaluate(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, system_id: UUID, body: EvaluationRequest
) -> Evaluation:
    """The derived elements over the given base values (and the caller's own formula, if given), each
    judged against its standard where a division is given. Writes nothing."""
    found = await get_system(uow, who, divisions, system_id)
    defined = {e.code: e for e in await repository.elements(uow.session, found.id)}
    _check_values(defined, body.values)
    own = None if body.formula is None else _own_formula(body.formula, defined)
    applying = {} if body.division_code is None else await standards(uow, found.id, body.division_code)
    derived = derive(formulas(defined.values()), body.values)
    outcomes = {
        code: Outcome(value, standard_for(applying, code, body.stage)) for code, value in derived.items()
    }
    formula = None
    if own is not None:
        known = {**body.values, **{c: v for c, v in derived.items() if isinstance(v, Decimal)}}
        try:
            formula = Outcome(own.evaluate(known), None)
        except FormulaUndefined as undefined:
            formula = Outcome(undefined, None)
    return Evaluation(outcomes, formula)
