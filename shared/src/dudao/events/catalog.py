"""The typed, versioned catalog of event payloads.

An event type reads ``dudao.<service>.<aggregate>.<event>.v<N>``. It is the NATS subject too, unless its
class's ``stream_subject`` routes by the payload (appending, say, the service a step goes back to, so
that each service subscribes to its own and claims nothing it would discard).
A change that breaks a consumer is a new class with the next version, registered beside the old one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from dudao.ids import uuid7

_TYPE = re.compile(r"^dudao\.[a-z][a-z0-9_-]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$")
_registry: dict[str, type[Event]] = {}


class Event(BaseModel):
    """An event payload. Subclasses set ``event_type`` and carry the ``division`` they concern."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    division: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return
        if not _TYPE.match(event_type):
            raise ValueError(
                f"event type {event_type!r} does not read dudao.<service>.<aggregate>.<event>.v<N>"
            )
        if event_type in _registry and _registry[event_type].__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {event_type} is registered twice")
        _registry[event_type] = cls

    def event_id(self) -> UUID:
        """A fresh id; timed facts override this with an id derived from what they are about."""
        return uuid7()

    def subject(self) -> str | None:
        """The CloudEvents subject: the record the event is about."""
        return None

    @classmethod
    def source_service(cls) -> str:
        return cls.event_type.split(".")[1]

    @classmethod
    def stream_subject(cls, data: Mapping[str, Any]) -> str:
        """The NATS subject an event with payload ``data`` is published on: by default its type."""
        return cls.event_type


def event_class(event_type: str) -> type[Event]:
    try:
        return _registry[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type}") from None


def stream_subject(event_type: str, data: Mapping[str, Any]) -> str:
    """The NATS subject of a stored event; an unknown type (no longer in the catalog) is its own subject."""
    cls = _registry.get(event_type)
    return event_type if cls is None else cls.stream_subject(data)


def registered_types() -> list[str]:
    return sorted(_registry)
