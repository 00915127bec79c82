"""Events of the API key registry."""

from __future__ import annotations

from datetime import datetime

from dudao.events.catalog import Event


class ApiKeyIssued(Event):
    event_type = "dudao.common.apikey.issued.v1"
    key_id: str
    display_prefix: str
    org: str
    expires_at: datetime | None

    def subject(self) -> str:
        return self.key_id


class ApiKeyRevoked(Event):
    """Every service drops the key from its cache on this event, so a revoked key stops working at once."""

    event_type = "dudao.common.apikey.revoked.v1"
    key_id: str
    key_hash: str
    display_prefix: str

    def subject(self) -> str:
        return self.key_id
