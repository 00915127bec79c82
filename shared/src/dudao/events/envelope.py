"""The CloudEvents 1.0 JSON envelope every event travels in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class CloudEvent(BaseModel):
    # Unknown CloudEvents extensions are ignored on reading, so a producer may add one first.
    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    division: str
    traceparent: str | None = None
    correlationid: str | None = None
