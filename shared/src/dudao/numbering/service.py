"""Gapless document numbers (文号) per office, kind and year, and the abbreviations they start with.

No commit: the serials are reserved in the caller's transaction, so a document that is not written takes
its number back with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dudao.divisions.tree import DivisionTree
from dudao.errors import InvalidInput
from dudao.numbering import repository
from dudao.uow import UnitOfWork

# The character of each kind in a document number: 桂教督[办]〔2026〕12号.
KIND_CHARACTERS: dict[str, str] = {
    "urging_order": "办",  # 督办单
    "interview": "谈",  # 约谈通知
    "circular": "通",  # 通报
    "accountability_decision": "责",  # 问责决定
    "commendation": "表",  # 表彰
    "evaluation_results": "评",  # 履行教育职责评价结果
    "supervision_notice": "函",  # 督导通知书
    "supervision_opinion": "意",  # 督导意见书
    "supervision_report": "报",  # 督导报告
}
# Offices whose conventional abbreviation is not their name's first character.
CONVENTIONAL_ABBREVIATIONS = {"450000": "桂教督"}


class UnknownDocumentKind(InvalidInput):
    type = "unknown-document-kind"
    title = "No document number series for this kind of document"


@dataclass(frozen=True)
class Wanted:
    """``count`` numbers of the series of an office (by its division), a kind and a year."""

    office_division: str
    kind: str
    year: int
    count: int = 1


@dataclass(frozen=True)
class DocumentNumber:
    serial: int
    year: int
    text: str  # e.g. 桂教督意〔2026〕1号


@dataclass(frozen=True)
class IssuingOfficeView:
    division_code: str
    abbreviation: str
    name: str | None  # as governance recorded it; None while it has not
    default: bool  # True while governance has recorded no abbreviation for the office


async def reserve(
    uow: UnitOfWork, divisions: DivisionTree, wanted: Sequence[Wanted]
) -> list[list[DocumentNumber]]:
    """The next numbers of each of ``wanted``, in order (two of the same series get consecutive runs, the
    first the lower), reserved in one statement for all of them, inside the caller's transaction."""
    for w in wanted:
        if w.kind not in KIND_CHARACTERS:
            raise UnknownDocumentKind(f"{w.kind!r} is not one of {', '.join(KIND_CHARACTERS)}", field="kind")
        if w.count < 1:
            raise ValueError(f"count must be at least 1, not {w.count}")
    if not wanted:
        return []
    totals: Counter[repository.SeriesKey] = Counter()
    for w in wanted:
        totals[w.office_division, w.kind, w.year] += w.count
    reserved = await repository.reserve_serials(uow.session, totals)
    following = {key: last - totals[key] for key, (last, _) in reserved.items()}
    out: list[list[DocumentNumber]] = []
    for w in wanted:
        key = (w.office_division, w.kind, w.year)
        own = reserved[key][1]
        prefix = (own or default_abbreviation(divisions, w.office_division)) + KIND_CHARACTERS[w.kind]
        first = following[key] + 1
        following[key] += w.count
        out.append(
            [DocumentNumber(s, w.year, f"{prefix}〔{w.year}〕{s}号") for s in range(first, first + w.count)]
        )
    return out


async def issuing_office(uow: UnitOfWork, divisions: DivisionTree, division_code: str) -> IssuingOfficeView:
    """The abbreviation an office's numbers start with: governance's record, else the default rule.
    InvalidDivisionCode for a code the deployment does not know."""
    divisions.require(division_code)
    own = await repository.issuing_office(uow.session, division_code)
    if own is not None:
        return IssuingOfficeView(division_code, own.abbreviation, own.name, default=False)
    default = default_abbreviation(divisions, division_code)
    return IssuingOfficeView(division_code, default, None, default=True)


def default_abbreviation(divisions: DivisionTree, division_code: str) -> str:
    """桂教督 for the region, else the first character of the division's name and 教督 (兴宁区: 兴教督), or
    its next character where the first would repeat a conventional one (桂林市: 林教督, not the region's)."""
    if division_code in CONVENTIONAL_ABBREVIATIONS:
        return CONVENTIONAL_ABBREVIATIONS[division_code]
    division = divisions.get(division_code)
    name = division.name if division else division_code
    taken = set(CONVENTIONAL_ABBREVIATIONS.values())
    for character in name:
        if character + "教督" not in taken:
            return character + "教督"
    return name + "教督"
