"""One settings class for the whole suite, read from ``DUDAO_*`` variables.

A service can override any field with ``DUDAO_<SERVICE>_<FIELD>``, for example
``DUDAO_MONITORING_DATABASE_URL`` gives monitoring a database of its own.

Configuration fails closed: no process starts unless ``DUDAO_ENVIRONMENT`` names its environment
(``dudao up`` and the tests name theirs), production refuses the development secrets below, and a
``DUDAO_`` variable nothing reads (a misspelling such as ``DUDAO_ENV``) is reported at start.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, get_origin

import structlog
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dudao-development-secret-change-me-in-production"  # noqa: S105 - development default
DEV_FIELD_ENCRYPTION_KEY = "dudao-development-field-key-change-me"
DEV_FIELD_INDEX_KEY = "dudao-development-index-key-change-me"
DEV_AUDIT_KEY = "dudao-development-audit-key-change-me"
# What the development secrets guard; production refuses to start with any of them.
DEVELOPMENT_SECRETS = {
    "jwt_secret": DEV_JWT_SECRET,
    "field_encryption_key": DEV_FIELD_ENCRYPTION_KEY,
    "field_index_key": DEV_FIELD_INDEX_KEY,
    "audit_key": DEV_AUDIT_KEY,
}
# Read beside Settings: the token `dudao up` has a developer export, and DUDAO_<SERVICE>_PORT (dev.suite).
_SUITE_VARIABLES = {"DUDAO_TOKEN"}
_SUITE_SERVICE_VARIABLES = {"PORT"}

log = structlog.get_logger(__name__)


class ConfigurationError(RuntimeError):
    """Settings no process may start with; the message is one line saying what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUDAO_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] | None = Field(
        default=None,
        description="required: no process starts unless it is named; `dudao up` names development, "
        "the tests test",
    )
    data_dir: Path = Path(".dudao")

    database_url: SecretStr | None = Field(
        default=None, description="postgresql+asyncpg://… ; unset: the embedded server under data_dir"
    )
    nats_url: str | None = Field(default=None, description="nats://… ; unset: the embedded server")
    nats_user: str | None = Field(
        default=None,
        description="the NATS user this process connects as (each service its own, see dudao.events."
        "permissions); unset: a server without authentication, or credentials in nats_url",
    )
    nats_password: SecretStr | None = Field(default=None, description="nats_user's password")
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

    # Rate limits (dudao.http.ratelimit), in the `limits` library's notation: "600/minute;20000/day".
    rate_limit_per_address: str = Field(
        default="3000/minute", description="requests one client address may make, on every route"
    )
    rate_limit_per_api_key: str = Field(default="1200/minute", description="requests one API key may make")
    rate_limit_per_subject: str = Field(
        default="1200/minute", description="requests one person (a token's subject) may make"
    )
    rate_limit_auth_failures: str = Field(
        default="20/minute;60/hour;200/day",
        description="failed authentications from one address before it must wait; each tier waits longer",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where the counters live; one process each with memory://, shared with redis://…",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="networks of the proxies whose X-Forwarded-For names the client, e.g. 10.0.0.0/8",
    )

    max_body_bytes: int = 1_048_576
    max_query_bytes: int = Field(
        default=8192,
        ge=1024,
        le=16_000,
        description="bytes a query string may have, else 414 as problem+json; below the servers' own limits "
        "(h11 refuses a request head over 16 KiB, httptools a URL of 64 KiB, as text/plain)",
    )

    outbox_poll_seconds: float = 2.0
    outbox_batch_size: int = 200
    consumer_max_deliver: int = 5
    consumer_backoff_seconds: list[float] = [1.0, 5.0, 30.0, 120.0]
    consumer_ack_wait_seconds: float = 30.0
    scheduler_tick_seconds: float = 5.0

    # Retention (dudao.retention): the worker prunes what is older, in bounded batches.
    outbox_retention_days: int = Field(
        default=7, ge=1, description="days a published outbox row is kept for `dudao events replay`"
    )
    inbox_retention_days: int = Field(
        default=14,
        ge=1,
        description="days a consumer remembers an applied event id; longer than the outbox's and the "
        "stream's retention, so that no replayed or redelivered event is applied twice",
    )
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, description="hours a stored Idempotency-Key response is kept at least"
    )
    dead_letter_retention_days: int = Field(default=30, ge=1, description="days a dead letter is kept")
    prune_batch_size: int = Field(
        default=1000, ge=1, description="rows one pruning statement deletes at most (a short lock)"
    )
    stream_max_age_days: int = Field(
        default=7, ge=1, description="days the DUDAO stream keeps a message (`dudao events declare-stream`)"
    )
    # NATS reserves the whole size on its disk when the stream is declared: 2 GiB fits a laptop's disk;
    # a deployment sizes it to a week of its events.
    stream_max_bytes: int | None = Field(
        default=2 * 1024**3,
        ge=1,
        description="the DUDAO stream's size at most; when full it refuses publishes (the outboxes hold "
        "the events) rather than drop events a consumer has not read; unset: unbounded",
    )

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

    # The audit log's keyed chain and its checkpoints (dudao.audit): one key set for the whole deployment,
    # since `dudao audit verify` checks every schema's log with it.
    audit_key: SecretStr = Field(
        default=SecretStr(DEV_AUDIT_KEY),
        description="HMAC-SHA256 key of the audit entries, chain and checkpoints; never in the database",
    )
    audit_key_id: str = Field(
        default="k1", pattern=r"^[A-Za-z0-9_-]{1,32}$", description="the id each MAC names its key by"
    )
    audit_retired_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="key id -> key, still verifying what was sealed before a rotation"
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None, description="where checkpoints are appended, a file per log; unset: <data_dir>/audit"
    )
    audit_checkpoint_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how often the worker checkpoints a log whose head moved: entries sealed since the last "
        "checkpoint can be deleted from the tail unseen",
    )

    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _inbox_outlives_replays(self) -> Settings:
        # A replayed (outbox) or redelivered (stream) event whose inbox row is gone would be applied again.
        # Strictly longer: the inbox row is written a moment before the outbox row is marked published.
        longest = max(self.outbox_retention_days, self.stream_max_age_days)
        if self.inbox_retention_days <= longest:
            raise ValueError(
                f"inbox_retention_days ({self.inbox_retention_days}) must exceed outbox_retention_days "
                f"and stream_max_age_days ({longest})"
            )
        return self

    @property
    def production(self) -> bool:
        """Production's rules hold unless development or test is named: an unnamed environment is trusted
        with nothing (no development tokens, no shared-secret tokens, no development keys)."""
        return self.environment not in ("development", "test")

    def require_startable(self) -> None:
        """Refuse (ConfigurationError) an unnamed environment, and production with a development secret."""
        if self.environment is None:
            unknown = unknown_variables()
            hint = f"; {', '.join(unknown)} is not a Dudao variable" if unknown else ""
            raise ConfigurationError(
                "DUDAO_ENVIRONMENT is not set: name the environment (development, test or production),"
                f" it is never assumed{hint}"
            )
        if self.environment == "production":
            weak = [
                f"DUDAO_{name.upper()}"
                for name, development in DEVELOPMENT_SECRETS.items()
                if getattr(self, name).get_secret_value() in ("", development)
            ]
            # A retired key still opens or verifies what it sealed: the development one must not.
            retired = (
                (
                    "FIELD_ENCRYPTION_RETIRED_KEYS",
                    self.field_encryption_retired_keys,
                    DEV_FIELD_ENCRYPTION_KEY,
                ),
                ("AUDIT_RETIRED_KEYS", self.audit_retired_keys, DEV_AUDIT_KEY),
            )
            weak += [
                f"DUDAO_{name}[{key_id}]"
                for name, keys, development in retired
                for key_id, key in keys.items()
                if key.get_secret_value() in ("", development)
            ]
            if weak:
                raise ConfigurationError(
                    f"production needs secrets of its own: {', '.join(weak)} unset or the development value"
                )

    @property
    def evidence_root(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def audit_checkpoint_root(self) -> Path:
        return self.audit_checkpoint_dir or self.data_dir / "audit"

    @classmethod
    def for_service(cls, service: str | None, **overrides: Any) -> Settings:
        """Settings as a process of ``service`` (None: the CLI) starts with: ``DUDAO_<SERVICE>_X`` wins
        over ``DUDAO_X``. Settings it must not start with (require_startable, or an invalid value) end the
        process with one line on stderr and exit code 2, from wherever it asks: an import under uvicorn,
        a worker or the CLI."""
        try:
            settings = cls._merged(service, overrides)
            settings.require_startable()
        except (ValidationError, ConfigurationError) as exc:
            print(f"{service or 'dudao'}: refusing to start: {_one_line(exc)}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        return settings

    @classmethod
    def _merged(cls, service: str | None, overrides: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {}
        if service:
            prefix = _service_prefix(service)
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


def _service_prefix(service: str) -> str:
    return "DUDAO_" + service.upper().replace("-", "_") + "_"


def _one_line(exc: ValidationError | ConfigurationError) -> str:
    if isinstance(exc, ConfigurationError):
        return str(exc)
    return "; ".join(
        f"DUDAO_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
        if error["loc"]
        else error["msg"]
        for error in exc.errors(include_url=False)
    )


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ``DUDAO_`` variables no process reads: a misspelt one would otherwise change nothing, unseen.

    Known are ``DUDAO_<FIELD>``, ``DUDAO_<SERVICE>_<FIELD>`` for every installed service, and what the
    suite reads beside Settings (``DUDAO_<SERVICE>_PORT``, ``DUDAO_TOKEN``).
    """
    fields = {name.upper() for name in Settings.model_fields}
    per_service = fields | _SUITE_SERVICE_VARIABLES
    prefixes = [_service_prefix(ep.name) for ep in entry_points(group="dudao.services")]

    def known(name: str) -> bool:
        if name in _SUITE_VARIABLES or name.removeprefix("DUDAO_") in fields:
            return True
        return any(name.startswith(p) and name.removeprefix(p) in per_service for p in prefixes)

    names = (key.upper() for key in (os.environ if environ is None else environ))
    return sorted(name for name in names if name.startswith("DUDAO_") and not known(name))


def report_unknown_variables() -> None:
    """A warning naming the ``DUDAO_`` variables no process reads, once a process has its logging."""
    unknown = unknown_variables()
    if unknown:
        log.warning("unknown DUDAO_ variables: nothing reads them (misspelt?)", variables=unknown)


def _decode(annotation: Any, value: str) -> Any:
    """Lists come as JSON, as pydantic-settings reads them from ``DUDAO_X``."""
    return json.loads(value) if get_origin(annotation) in (list, dict) else value
