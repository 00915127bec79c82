"""One settings class for the whole suite, read from ``DUDAO_*`` variables.

A service can override any field with ``DUDAO_<SERVICE>_<FIELD>``, for example
``DUDAO_MONITORING_DATABASE_URL`` gives monitoring a database of its own.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dudao-development-secret-change-me-in-production"  # noqa: S105 - development default
DEV_FIELD_ENCRYPTION_KEY = "dudao-development-field-key-change-me"
DEV_FIELD_INDEX_KEY = "dudao-development-index-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUDAO_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".dudao")

    database_url: SecretStr | None = Field(
        default=None, description="postgresql+asyncpg://… ; unset: the embedded server under data_dir"
    )
    nats_url: str | None = Field(default=None, description="nats://… ; unset: the embedded server")
    database_pool_size: int = 10
    database_echo: bool = False

    host: str = "127.0.0.1"
    public_base_url: str | None = None

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithms: list[str] = ["HS256"]
    jwks_url: str | None = Field(default=None, description="production: the identity provider's JWKS")
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    dev_token_hours: int = 12

    api_key_cache_seconds: float = 30.0
    api_key_last_used_resolution_seconds: float = 60.0

    max_body_bytes: int = 1_048_576

    outbox_poll_seconds: float = 2.0
    outbox_batch_size: int = 200
    consumer_max_deliver: int = 5
    consumer_backoff_seconds: list[float] = [1.0, 5.0, 30.0, 120.0]
    consumer_ack_wait_seconds: float = 30.0
    scheduler_tick_seconds: float = 5.0

    # Development, tests and the demo may move time forward across every process; production never.
    clock_adjustable: bool = False

    evidence_dir: Path | None = Field(default=None, description="Evidence files; unset: <data_dir>/evidence")
    evidence_max_bytes: int = 20 * 1_048_576
    evidence_content_types: list[str] = [
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
    rectification_reminder_days: list[int] = [7, 1]
    rectification_reply_window_days: int = 15

    # The supervision procedure (dudao.supervision, RULES.md §3).
    supervision_min_team_size: int = Field(default=3, ge=1, description="inspectors a team needs at least")
    supervision_notice_days: int = Field(
        default=1, ge=1, description="days the written notice goes out before the on-site work, at least"
    )
    supervision_reply_window_days: int = Field(
        default=15, ge=1, description="days a unit may reply (申辩) to the feedback"
    )

    # Field encryption of personal data (dudao.encryption), emergency supervision and dropout control.
    field_encryption_key: SecretStr = SecretStr(DEV_FIELD_ENCRYPTION_KEY)
    field_encryption_key_id: str = "k1"
    field_encryption_retired_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="key id -> key, still opening values sealed before a rotation"
    )
    field_index_key: SecretStr = SecretStr(DEV_FIELD_INDEX_KEY)
    emergency_first_report_hours: int = 24
    dropout_target_rate_permille: float = Field(
        default=1.0, description="a county's dropout rate target (‰) where its division has none of its own"
    )

    # Upward filing (governance, 二二): the day of each year by which a lower office's work plan is due.
    filing_work_plan_due: str = Field(
        default="03-31",
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="month-day (MM-DD); a plan not filed by then raises a reminder",
    )

    # Satisfaction surveys (monitoring, 社会认可度): the public form and answer routes' rate limit.
    survey_requests_per_window: int = Field(
        default=20, ge=1, description="public survey requests a client address may make per window"
    )
    survey_window_seconds: int = Field(
        default=600, ge=1, le=86_400, description="the rate limit's fixed window (a day at most)"
    )

    log_level: str = "INFO"
    log_json: bool = True

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def evidence_root(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @classmethod
    def for_service(cls, service: str | None, **overrides: Any) -> Settings:
        """Settings as a service sees them: ``DUDAO_<SERVICE>_X`` wins over ``DUDAO_X``."""
        values: dict[str, Any] = {}
        if service:
            prefix = "DUDAO_" + service.upper().replace("-", "_") + "_"
            fields = set(cls.model_fields)
            for key, value in os.environ.items():
                if key.startswith(prefix):
                    name = key[len(prefix) :].lower()
                    if name in fields:
                        values[name] = _decode(cls.model_fields[name].annotation, value)
        values.update(overrides)
        if not values:
            return cls()
        # Re-validate through the environment source so list fields parse as they would from DUDAO_X.
        return cls.model_validate({**cls().model_dump(), **values})


def _decode(annotation: Any, value: str) -> Any:
    """Lists come as JSON, as pydantic-settings reads them from ``DUDAO_X``."""
    return json.loads(value) if get_origin(annotation) in (list, dict) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
