"""Who is calling: a person (bearer JWT) or a machine client (API key), with roles and jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from dudao.divisions.tree import jurisdiction_prefix


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"  # runs the platform: API keys, calendars, ladders
    SUPERVISION_OFFICE = "supervision_office"  # 督导办 staff at region, city or county level
    INSPECTOR = "inspector"  # 督学
    SUPERVISED_UNIT = "supervised_unit"  # a government, department or school under supervision
    MEMBER_UNIT = "member_unit"  # committee member unit: discipline inspection, organisation …
    AGENCY = "agency"  # third-party assessment agency
    PORTAL = "portal"  # e-government portal, reads what is public


Operation = Literal["read", "write"]


@dataclass(frozen=True)
class Principal:
    sub: str
    name: str
    roles: frozenset[Role]
    division: str
    org: str | None = None
    kind: Literal["person", "api_key"] = "person"
    # API keys may narrow where and what a client may touch; people see their division's subtree.
    scope_divisions: tuple[str, ...] = ()
    scope_services: frozenset[str] = frozenset()
    scope_operations: frozenset[str] = frozenset()
    key_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def jurisdictions(self) -> tuple[str, ...]:
        """Code prefixes this principal may see. A key's scope narrows its home division, never widens it."""
        home = jurisdiction_prefix(self.division)
        if not self.scope_divisions:
            return (home,)
        narrowed = []
        for code in self.scope_divisions:
            prefix = jurisdiction_prefix(code)
            if prefix.startswith(home):
                narrowed.append(prefix)
            elif home.startswith(prefix):
                narrowed.append(home)
        return tuple(sorted(set(narrowed)))

    def can_see(self, division_code: str) -> bool:
        return any(division_code.startswith(p) for p in self.jurisdictions)

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles)) or Role.PLATFORM_ADMIN in self.roles
