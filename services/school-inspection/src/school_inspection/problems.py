"""A refusal that names the field of the request body at fault, as request validation does."""

from __future__ import annotations

from typing import TypeVar

from dudao.errors import InvalidInput

E = TypeVar("E", bound=InvalidInput)


def field_error(error: type[E], field: str, message: str) -> E:
    return error(
        f"{field}: {message}", errors=[{"field": field, "in": "body", "message": message, "code": error.type}]
    )
