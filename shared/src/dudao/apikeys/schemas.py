"""API shapes of the key registry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dudao.auth.principal import Role
from dudao.schemas import DivisionCode, StrictModel, Timestamp

SERVICES = ("governance", "school-inspection", "monitoring", "accountability")
ServiceName = Literal["*", "governance", "school-inspection", "monitoring", "accountability"]
MachineRole = Literal[Role.AGENCY, Role.PORTAL, Role.MEMBER_UNIT, Role.SUPERVISED_UNIT]


Operation = Literal["read", "write"]


def _all_services() -> list[ServiceName]:
    return ["*"]


def _read_only() -> list[Operation]:
    return ["read"]


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200, description="What the key is for")
    org: str = Field(min_length=1, max_length=200, description="The organisation that holds it")
    roles: list[MachineRole] = Field(min_length=1, max_length=4, strict=False)
    division_code: DivisionCode = Field(description="The holder's home division")
    scope_services: list[ServiceName] = Field(default_factory=_all_services, min_length=1, max_length=5)
    scope_operations: list[Operation] = Field(default_factory=_read_only, min_length=1, max_length=2)
    scope_divisions: list[DivisionCode] = Field(
        default_factory=list,
        max_length=200,
        description="Narrow the home division to these (each within it); empty: all of it",
    )
    expires_at: Timestamp | None = Field(default=None, description="ISO 8601 with offset; absent: never")


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    display_prefix: str
    name: str
    org: str
    roles: list[str]
    division_code: str
    scope_services: list[str]
    scope_operations: list[str]
    scope_divisions: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaces_id: UUID | None


class ApiKeyIssuedRead(ApiKeyRead):
    key: str = Field(description="The key itself. It is shown only now: store it safely")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyRead]
    next_cursor: str | None
