"""Responses serialised once: a model the endpoint built is not validated again on its way out."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def json_model(
    model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``model`` as the response itself. The route keeps its ``response_model`` for the OpenAPI document;
    FastAPI passes a returned Response through, where a returned model would be dumped, validated against
    the response model and serialised again."""
    return Response(model.model_dump_json(), status_code, headers, media_type="application/json")
