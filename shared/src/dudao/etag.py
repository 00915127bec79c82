"""ETags from a row's version, and the If-Match check that stops lost updates."""

from __future__ import annotations

from uuid import UUID

from dudao.errors import PreconditionFailed, PreconditionRequired


def etag(record_id: UUID, version: int) -> str:
    return f'"{record_id.hex[:12]}-{version}"'


def require_match(if_match: str | None, record_id: UUID, version: int) -> None:
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the version you are changing")
    current = etag(record_id, version)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(f"The record is now at {current}; read it again before changing it")
