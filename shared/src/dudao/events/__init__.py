"""Events: CloudEvents envelopes, a typed catalog, the outbox, the relay and durable consumers."""

from dudao.events.catalog import Event, event_class, registered_types
from dudao.events.envelope import CloudEvent

__all__ = ["CloudEvent", "Event", "event_class", "registered_types"]
