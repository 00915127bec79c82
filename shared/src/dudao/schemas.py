"""Request-model building blocks.

Request models are strict (``false`` is not a number, ``"3"`` is not an integer). FastAPI validates
the parsed JSON in Python mode, where strict enums and datetimes would refuse the strings JSON carries,
so those fields relax strictness for strings only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _string_only(value: Any) -> Any:
    if not isinstance(value, (str, datetime)):
        raise ValueError("must be a string")
    return value


# An ISO 8601 timestamp with its offset; a number is refused rather than read as a Unix time.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_string_only), Field(strict=False)]


def enum_field(**kwargs: Any) -> Any:
    """A field of a ``StrEnum`` that takes the enum's string values."""
    return Field(strict=False, **kwargs)


# A UUID as JSON carries it: a string.
Uuid = Annotated[UUID, Field(strict=False)]

DivisionCode = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$", description="6-digit division code")]
