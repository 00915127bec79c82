"""The region/city/county tree. Codes are GB/T 2260 style: 6 digits, ``45`` region, ``4501`` city,
``450102`` county. Any province's codes work; Guangxi's ship with the kit."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, cast

from dudao.errors import InvalidInput

Level = Literal["region", "city", "county"]
_CODE = re.compile(r"^[1-9][0-9]{5}$")


class InvalidDivisionCode(InvalidInput):
    type = "invalid-division-code"
    title = "Not a division code"


def level_of(code: str) -> Level:
    if not _CODE.match(code):
        raise InvalidDivisionCode(f"{code!r} is not a 6-digit administrative division code")
    if code.endswith("0000"):
        return "region"
    if code.endswith("00"):
        return "city"
    return "county"


def jurisdiction_prefix(code: str) -> str:
    """The prefix every record under ``code`` starts with: 450000→45, 450100→4501, 450102→450102."""
    level = level_of(code)
    return code[:2] if level == "region" else code[:4] if level == "city" else code


def covers(jurisdiction: str, division_code: str) -> bool:
    return division_code.startswith(jurisdiction_prefix(jurisdiction))


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: Level
    parent_code: str | None


class DivisionTree:
    def __init__(self, divisions: list[Division]) -> None:
        self._by_code = {d.code: d for d in divisions}
        for d in divisions:
            if d.parent_code and d.parent_code not in self._by_code:
                raise ValueError(f"division {d.code} names an unknown parent {d.parent_code}")

    @classmethod
    def from_csv(cls, text: str) -> DivisionTree:
        rows = csv.DictReader(io.StringIO(text))
        divisions = []
        for row in rows:
            code = row["code"].strip()
            level = row.get("level", "").strip() or level_of(code)
            if level not in ("region", "city", "county"):
                raise ValueError(f"division {code} has an unknown level {level!r}")
            level = cast(Level, level)
            divisions.append(
                Division(code, row["name"].strip(), level, (row.get("parent_code") or "").strip() or None)
            )
        return cls(divisions)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def require(self, code: str) -> Division:
        level_of(code)
        division = self._by_code.get(code)
        if division is None:
            raise InvalidDivisionCode(f"{code} is not a division of this deployment")
        return division

    def all(self) -> list[Division]:
        return sorted(self._by_code.values(), key=lambda d: d.code)

    def children(self, code: str) -> list[Division]:
        return [d for d in self.all() if d.parent_code == code]

    def within(self, jurisdiction: str) -> list[Division]:
        prefix = jurisdiction_prefix(jurisdiction)
        return [d for d in self.all() if d.code.startswith(prefix)]

    def path(self, code: str) -> list[Division]:
        """The division and its ancestors, region first."""
        out = []
        node = self.get(code)
        while node is not None:
            out.append(node)
            node = self.get(node.parent_code) if node.parent_code else None
        return list(reversed(out))


@lru_cache
def load_tree(resource: str = "guangxi-divisions.csv") -> DivisionTree:
    text = resources.files("dudao.divisions").joinpath("data", resource).read_text(encoding="utf-8")
    return DivisionTree.from_csv(text)
