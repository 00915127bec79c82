"""The ``dudao`` command: run the suite, migrate, issue tokens and keys, replay events, verify the audit;
and the services' own command groups, mounted from their entry points (``dudao schools import …``)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer
from pydantic import SecretStr, ValidationError

from dudao import audit, clock_sync
from dudao.apikeys import service as apikey_service
from dudao.apikeys.schemas import ApiKeyCreate, ApiKeyRead
from dudao.auth.principal import Principal, Role
from dudao.auth.tokens import issue_dev_token
from dudao.calendar import service as calendar_service
from dudao.calendar.schemas import NamedDay
from dudao.clock import clock
from dudao.common.models import common_kit
from dudao.config import Settings, unknown_variables
from dudao.db import KIT_SCHEMA, asyncpg_url, create_engine, session_factory
from dudao.divisions.seed import read_divisions, seed_divisions
from dudao.errors import DomainError
from dudao.events import dead_letters
from dudao.events.dead_letters import DeadLetter
from dudao.migrations import service_specs, upgrade_all
from dudao.tables import KitTables
from dudao.uow import Actor, UnitOfWork

app = typer.Typer(help="Dudao (督导): the education supervision platform.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
events_app = typer.Typer(help="The event stream and the outboxes.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit logs, chained by keyed MACs and checkpointed.", no_args_is_help=True)
divisions_app = typer.Typer(help="Administrative divisions.", no_args_is_help=True)
calendar_app = typer.Typer(help="The holiday calendar (工作日).", no_args_is_help=True)
clock_app = typer.Typer(help="The suite's clock (development, tests and demos).", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(events_app, name="events")
app.add_typer(audit_app, name="audit")
app.add_typer(divisions_app, name="divisions")
app.add_typer(calendar_app, name="calendar")
app.add_typer(clock_app, name="clock")

T = TypeVar("T")
CLI_ACTOR = Actor(id="cli", kind="cli")
# The CLI acts for the whole deployment, like a provincial administrator at the console.
CLI_PRINCIPAL = Principal(
    sub="cli", name="dudao CLI", roles=frozenset({Role.PLATFORM_ADMIN}), division="450000"
)


def _settings(*, database: bool = True, nats: bool = False) -> Settings:
    """The settings of a command that uses the database (and NATS): it does not run in an unnamed
    environment (Settings.for_service). A URL not given is that of the embedded server of the suite
    `dudao up` runs on the data folder, outside production, which names its servers."""
    settings = _suite_servers(_checked(Settings.for_service(None)))
    missing = [
        variable
        for variable, needed, given in (
            ("DUDAO_DATABASE_URL", database, settings.database_url),
            ("DUDAO_NATS_URL", nats, settings.nats_url),
        )
        if needed and given is None
    ]
    if missing:
        unset = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
        typer.echo(f"error: {unset}, and no `dudao up` runs on {settings.data_dir.resolve()}", err=True)
        raise typer.Exit(2)
    return settings


def _development_settings() -> Settings:
    """The settings of a development tool (`up`, `demo`, `token`): it names development itself unless
    DUDAO_ENVIRONMENT names another environment."""
    named = os.environ.get("DUDAO_ENVIRONMENT")
    return _checked(Settings.for_service(None, **({} if named else {"environment": "development"})))


def _checked(settings: Settings) -> Settings:
    unknown = unknown_variables()
    if unknown:
        typer.echo(f"warning: nothing reads {', '.join(unknown)} (misspelt?)", err=True)
    return settings


def _suite_servers(settings: Settings) -> Settings:
    """``settings`` with the URLs of the embedded servers that `dudao up` runs on the data folder, where
    none are given (as it records them: ``<data_dir>/postgres`` and ``<data_dir>/nats``)."""
    if settings.production or (settings.database_url is not None and settings.nats_url is not None):
        return settings
    from dudao.dev.embedded import running_nats, running_postgres
    from dudao.dev.suite import DATABASE

    data_dir = settings.data_dir.resolve()
    found: dict[str, Any] = {}
    if settings.database_url is None and (pg := running_postgres(data_dir / "postgres")) is not None:
        found["database_url"] = SecretStr(asyncpg_url(pg.url(DATABASE)))
    if settings.nats_url is None and (server := running_nats(data_dir / "nats")) is not None:
        # The suite's server authenticates: the CLI connects as its administrator, as `dudao up`'s steps do.
        found["nats_url"] = server.url if settings.nats_user else server.admin_url
    return settings.model_copy(update=found)


def _given(url: str | None) -> str:
    """A URL that ``_settings`` made sure of."""
    assert url is not None
    return url


def _run(
    work: Callable[[Settings], Coroutine[Any, Any, T]],
    settings: Settings | None = None,
    *,
    database: bool = True,
    nats: bool = False,
) -> T:
    try:
        return asyncio.run(work(settings or _settings(database=database, nats=nats)))
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:  # refused, unreachable or timed out: asyncpg and NATS raise OSErrors
        typer.echo(f"error: could not connect: {exc}", err=True)
        raise typer.Exit(1) from None


def _kits() -> dict[str, KitTables]:
    kits = {KIT_SCHEMA: common_kit}
    kits.update({s.schema: s.kit for s in service_specs()})
    return kits


def _kit_named(schema: str) -> KitTables:
    kit = _kits().get(schema)
    if kit is None:
        typer.echo(f"error: no schema {schema!r}; one of {', '.join(_kits())}", err=True)
        raise typer.Exit(2)
    return kit


@app.command()
def up() -> None:
    """Start the whole suite on this machine (embedded PostgreSQL and NATS unless URLs are given)."""
    from dudao.dev.suite import run_suite

    raise typer.Exit(run_suite(_development_settings()))


@app.command()
def down() -> None:
    """Stop a suite started by ``dudao up``."""
    from dudao.dev.suite import stop_suite

    # Only processes and servers to stop: no environment to name.
    stop_suite(Settings().data_dir)


@app.command()
def migrate(
    divisions_csv: Annotated[Path | None, typer.Option(help="Another province's divisions")] = None,
) -> None:
    """Migrate every schema to its latest version, then seed the divisions and the holiday calendar."""
    settings = _settings()
    assert settings.database_url is not None
    upgrade_all(settings.database_url.get_secret_value())
    count = _run(lambda s: _seed_divisions(s, divisions_csv), settings)
    years = _run(_seed_calendar, settings)
    typer.echo(f"migrated; {count} divisions seeded; holiday calendar: {len(years)} years added")


async def _seed_divisions(settings: Settings, csv_path: Path | None) -> int:
    engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
    try:
        return await seed_divisions(engine, read_divisions(csv_path))
    finally:
        await engine.dispose()


async def _seed_calendar(settings: Settings) -> list[int]:
    return await _in_common_uow(settings, lambda uow: calendar_service.seed(uow, CLI_PRINCIPAL))


@divisions_app.command("seed")
def divisions_seed(
    csv_path: Annotated[Path | None, typer.Argument(help="CSV: code,name,level,parent_code")] = None,
) -> None:
    """Load divisions (Guangxi's by default, or any province's CSV)."""
    typer.echo(f"{_run(lambda s: _seed_divisions(s, csv_path))} divisions seeded")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject: the person's id")] = "dev-admin",
    name: Annotated[str, typer.Option(help="Display name")] = "开发管理员",
    role: Annotated[
        list[str] | None, typer.Option(help=f"Repeatable; one of {', '.join(r.value for r in Role)}")
    ] = None,
    division: Annotated[str, typer.Option(help="Home division code")] = "450000",
    org: Annotated[str | None, typer.Option(help="Organisation")] = None,
    hours: Annotated[int, typer.Option(help="Validity in hours")] = 12,
) -> None:
    """Issue a development token (HS256, the development secret). Refused in production."""
    roles = role or [Role.PLATFORM_ADMIN.value, Role.SUPERVISION_OFFICE.value]
    try:
        typer.echo(
            issue_dev_token(
                _development_settings(),
                sub=sub,
                name=name,
                roles=roles,
                division=division,
                org=org,
                ttl=timedelta(hours=hours),
            )
        )
    except (ValueError, DomainError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


async def _in_uow(settings: Settings, kit: KitTables, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``work`` in a unit of work on ``kit``'s schema, and commit it."""
    engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
    try:
        async with session_factory(engine)() as session:
            uow = UnitOfWork(
                session=session,
                kit=kit,
                source="/dudao/cli",
                clock=clock,
                actor=CLI_ACTOR,
                audit_keys=audit.AuditKeys.from_settings(settings),
            )
            result = await work(uow)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


async def _in_common_uow(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    return await _in_uow(settings, common_kit, work)


def _show(key: Any) -> str:
    return ApiKeyRead.model_validate(key).model_dump_json(indent=2)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="What the key is for")],
    org: Annotated[str, typer.Option(help="The organisation that holds it")],
    division: Annotated[str, typer.Option(help="The holder's home division")],
    role: Annotated[list[str], typer.Option(help="agency, portal, member_unit or supervised_unit")],
    service: Annotated[list[str] | None, typer.Option(help="Services it may call; default all")] = None,
    operation: Annotated[list[str] | None, typer.Option(help="read and/or write; default read")] = None,
    scope_division: Annotated[list[str] | None, typer.Option(help="Narrow to these divisions")] = None,
    expires: Annotated[datetime | None, typer.Option(help="Expiry (UTC)")] = None,
) -> None:
    """Issue a key. It is printed once; only its hash is stored."""
    body = ApiKeyCreate.model_validate(
        {
            "name": name,
            "org": org,
            "roles": role,
            "division_code": division,
            "scope_services": service or ["*"],
            "scope_operations": operation or ["read"],
            "scope_divisions": scope_division or [],
            "expires_at": expires,
        },
        strict=False,
    )

    async def work(settings: Settings) -> str:
        async def issue(uow: UnitOfWork) -> str:
            key, secret = await apikey_service.issue(uow, CLI_PRINCIPAL, body)
            return f"{_show(key)}\nkey (shown once): {secret}"

        return await _in_common_uow(settings, issue)

    typer.echo(_run(work))


@apikey_app.command("list")
def apikey_list(include_revoked: Annotated[bool, typer.Option()] = False) -> None:
    """List keys (never the keys themselves)."""

    async def work(settings: Settings) -> list[str]:
        async def page(uow: UnitOfWork) -> list[str]:
            rows = await apikey_service.list_page(
                uow, CLI_PRINCIPAL, after=None, limit=10_000, include_revoked=include_revoked
            )
            return [
                f"{k.id}  {k.display_prefix}…  {k.org}  {k.name}  {'revoked' if k.revoked_at else 'active'}"
                for k in rows
            ]

        return await _in_common_uow(settings, page)

    for line in _run(work):
        typer.echo(line)


@apikey_app.command("revoke")
def apikey_revoke(key_id: UUID) -> None:
    """Revoke a key; every service refuses it within a second."""

    async def work(settings: Settings) -> str:
        async def revoke(uow: UnitOfWork) -> str:
            return _show(await apikey_service.revoke(uow, CLI_PRINCIPAL, key_id))

        return await _in_common_uow(settings, revoke)

    typer.echo(_run(work))


@apikey_app.command("rotate")
def apikey_rotate(key_id: UUID) -> None:
    """Issue a successor; the old key expires after a 24-hour grace period."""

    async def work(settings: Settings) -> str:
        async def rotate(uow: UnitOfWork) -> str:
            key, secret = await apikey_service.rotate(uow, CLI_PRINCIPAL, key_id)
            return f"{_show(key)}\nkey (shown once): {secret}"

        return await _in_common_uow(settings, rotate)

    typer.echo(_run(work))


@events_app.command("declare-stream")
def events_declare_stream(replicas: Annotated[int, typer.Option(help="3 on a NATS cluster")] = 1) -> None:
    """Create or update the DUDAO stream on dudao.> (consumers never create it)."""
    from dudao.events.nats import connect, credentials
    from dudao.events.stream import declare_stream

    async def work(settings: Settings) -> None:
        nc = await connect(_given(settings.nats_url), name="dudao-cli", **credentials(settings))
        try:
            await declare_stream(
                nc.jetstream(),
                replicas=replicas,
                max_age=timedelta(days=settings.stream_max_age_days).total_seconds(),
                max_bytes=settings.stream_max_bytes,
            )
        finally:
            await nc.close()

    _run(work, database=False, nats=True)
    typer.echo("stream DUDAO declared on dudao.>")


@events_app.command("replay")
def events_replay(
    schema: Annotated[str, typer.Option(help="Whose outbox: common, governance, inspection, …")],
    since_seq: Annotated[int | None, typer.Option(help="From this outbox sequence number")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this time (UTC)")] = None,
    event_type: Annotated[list[str] | None, typer.Option("--type", help="Only these types")] = None,
) -> None:
    """Republish events from an outbox (consumers apply each at most once, thanks to their inbox)."""
    from dudao.events.nats import connect, credentials
    from dudao.events.relay import replay

    kit = _kit_named(schema)

    async def work(settings: Settings) -> int:
        engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
        nc = await connect(_given(settings.nats_url), name="dudao-cli", **credentials(settings))
        try:
            return await replay(
                engine, kit, nc.jetstream(), since_seq=since_seq, since_time=since, types=event_type
            )
        finally:
            await nc.close()
            await engine.dispose()

    typer.echo(f"{_run(work, nats=True)} events republished")


dead_letters_app = typer.Typer(help="What consumers gave up on: list, retry, discard.", no_args_is_help=True)
events_app.add_typer(dead_letters_app, name="dead-letters")


def _letter_line(schema: str, letter: DeadLetter) -> str:
    return (
        f"{letter.id}  {schema}  {letter.consumer}  {letter.subject}  {letter.deliveries} attempts  "
        f"{letter.failed_at:%Y-%m-%d %H:%M:%S%z}  {letter.summary[:160]}"
    )


@dead_letters_app.command("list")
def dead_letters_list(
    schema: Annotated[list[str] | None, typer.Option(help="Default: every schema")] = None,
    consumer: Annotated[str | None, typer.Option(help="Only this consumer's (durable name)")] = None,
    limit: Annotated[int, typer.Option(help="At most this many per schema, oldest first")] = 100,
) -> None:
    """List dead letters: id, schema (service), consumer, subject, attempts, time and error."""
    kits = {name: _kit_named(name) for name in schema or _kits()}

    async def work(settings: Settings) -> list[str]:
        engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
        try:
            async with engine.connect() as conn:
                return [
                    _letter_line(name, letter)
                    for name, kit in kits.items()
                    for letter in await dead_letters.list_letters(conn, kit, consumer=consumer, limit=limit)
                ]
        finally:
            await engine.dispose()

    lines = _run(work)
    typer.echo("\n".join(lines) if lines else "no dead letters")


@dead_letters_app.command("retry")
def dead_letters_retry(
    schema: Annotated[str, typer.Option(help="Whose dead letters: governance, inspection, …")],
    ids: Annotated[list[int], typer.Argument(help="Dead letter ids, as `list` shows them")],
) -> None:
    """Put dead letters back on the stream for their consumer alone, and delete them (audited)."""
    from dudao.events.nats import connect, credentials

    kit = _kit_named(schema)

    async def work(settings: Settings) -> tuple[list[DeadLetter], Exception | None]:
        nc = await connect(_given(settings.nats_url), name="dudao-cli", **credentials(settings))
        try:
            js = nc.jetstream()
            return await _in_uow(settings, kit, lambda uow: dead_letters.retry(uow, js, ids))
        finally:
            await nc.close()

    retried, failure = _run(work, nats=True)
    for letter in retried:
        typer.echo(f"retried {letter.id}: {letter.consumer} gets {letter.subject} again")
    _report_missing(ids, retried, [] if failure is None else ids[len(retried) :])
    if failure is not None:
        typer.echo(f"error: the stream refused the next one: {failure}", err=True)
        raise typer.Exit(1)


@dead_letters_app.command("discard")
def dead_letters_discard(
    schema: Annotated[str, typer.Option(help="Whose dead letters: governance, inspection, …")],
    ids: Annotated[list[int], typer.Argument(help="Dead letter ids, as `list` shows them")],
) -> None:
    """Delete dead letters for good; the schema's audit log records each."""
    kit = _kit_named(schema)
    discarded = _run(lambda settings: _in_uow(settings, kit, lambda uow: dead_letters.discard(uow, ids)))
    for letter in discarded:
        typer.echo(f"discarded {letter.id}: {letter.consumer} {letter.subject}")
    _report_missing(ids, discarded, [])


def _report_missing(ids: list[int], done: list[DeadLetter], untried: list[int]) -> None:
    found = {letter.id for letter in done} | set(untried)
    missing = [i for i in ids if i not in found]
    if missing:
        typer.echo(f"warning: no dead letter {', '.join(map(str, missing))}", err=True)


@audit_app.command("verify")
def audit_verify(
    schema: Annotated[list[str] | None, typer.Option(help="Default: every schema")] = None,
) -> None:
    """Walk each audit chain with the audit key, hold it against the log's latest checkpoint (in its file
    and on the stream) and name the first broken link."""
    from functools import partial

    from dudao.contracts.audit import checkpoint_subject
    from dudao.events.nats import connect, credentials

    kits = _kits()
    # Whose subjects each log's checkpoints are published on: the service's, the kit's own for common.
    origins = {KIT_SCHEMA: KIT_SCHEMA, **{s.schema: s.name for s in service_specs()}}
    chosen = schema or list(kits)
    unknown = [s for s in chosen if s not in kits]
    if unknown:
        typer.echo(f"error: no schema {', '.join(unknown)}; one of {', '.join(kits)}", err=True)
        raise typer.Exit(2)

    async def work(settings: Settings) -> list[tuple[str, audit.Verification]]:
        keys = audit.AuditKeys.from_settings(settings)
        nc = None
        if settings.nats_url is None:
            typer.echo("warning: no NATS: only the checkpoint files are consulted, not the stream", err=True)
        else:
            nc = await connect(settings.nats_url, name="dudao-cli", **credentials(settings))
        engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
        try:
            async with engine.connect() as conn:
                return [
                    (
                        name,
                        await audit.verify_log(
                            conn,
                            kits[name].audit_log,
                            keys,
                            settings.audit_checkpoint_root,
                            None if nc is None else nc.jetstream(),
                            partial(checkpoint_subject, origins[name]),
                        ),
                    )
                    for name in chosen
                ]
        finally:
            await engine.dispose()
            if nc is not None:
                await nc.close()

    failed = False
    for name, result in _run(work):
        checkpoint = result.checkpoint
        held = (
            f"; checkpoint of {checkpoint.at:%Y-%m-%d %H:%M:%S} UTC: {checkpoint.count} entries"
            if checkpoint is not None
            else "; no checkpoint yet"
        )
        if result.broken is None:
            pending = f"; {result.unsealed} not yet sealed by the worker" if result.unsealed else ""
            typer.echo(f"{name}: intact, {result.checked} entries{pending}{held}")
        else:
            failed = True
            link = result.broken
            where = " ".join(
                part
                for part in (
                    f"at entry {link.chain_seq}" if link.chain_seq is not None else "",
                    f"(seq {link.seq})" if link.seq is not None else "",
                )
                if part
            )
            typer.echo(
                f"{name}: BROKEN{' ' + where if where else ''}: {link.reason}; "
                f"the {result.checked} entries before it are intact"
            )
    raise typer.Exit(1 if failed else 0)


@calendar_app.command("years")
def calendar_years() -> None:
    """List the years with holiday data, and where it came from."""

    async def work(settings: Settings) -> list[str]:
        async def years(uow: UnitOfWork) -> list[str]:
            return [
                f"{y.year}  {y.source}  {y.published_at:%Y-%m-%d}  {y.published_by}"
                for y in await calendar_service.list_years(uow.session)
            ]

        return await _in_common_uow(settings, years)

    for line in _run(work):
        typer.echo(line)


def _read_calendar_csv(path: Path) -> tuple[list[NamedDay], list[NamedDay]]:
    """Holidays (working=0) and adjusted working days (working=1) from a CSV headed date,name,working."""
    holidays: list[NamedDay] = []
    adjusted: list[NamedDay] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            working = (row.get("working") or "").strip()
            if working not in ("0", "1"):
                raise ValueError(f"line {line}: working must be 0 (holiday) or 1 (adjusted working day)")
            try:
                day = NamedDay(
                    date=date.fromisoformat((row.get("date") or "").strip()), name=row.get("name") or ""
                )
            except ValueError as exc:
                raise ValueError(f"line {line}: {exc}") from None
            (adjusted if working == "1" else holidays).append(day)
    return holidays, adjusted


@calendar_app.command("publish")
def calendar_publish(
    year: Annotated[int, typer.Argument(help="The year of the State Council's notice")],
    holidays_csv: Annotated[
        Path, typer.Option("--holidays", help="CSV date,name,working: 0 a holiday, 1 an adjusted working day")
    ],
) -> None:
    """Publish (or correct) a year's holiday calendar; provisional deadlines in it are recomputed."""
    try:
        holidays, adjusted = _read_calendar_csv(holidays_csv)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {holidays_csv}: {exc}", err=True)
        raise typer.Exit(2) from None

    async def work(settings: Settings) -> str:
        async def publish(uow: UnitOfWork) -> str:
            await calendar_service.publish_year(uow, CLI_PRINCIPAL, year, holidays, adjusted)
            return f"{year} published: {len(holidays)} holidays, {len(adjusted)} adjusted working days"

        return await _in_common_uow(settings, publish)

    typer.echo(_run(work))


@clock_app.command("advance")
def clock_advance(
    days: Annotated[int, typer.Option(help="Days forward")] = 0,
    hours: Annotated[int, typer.Option(help="Hours forward")] = 0,
) -> None:
    """Move time forward in every process of a suite run with DUDAO_CLOCK_ADJUSTABLE (never production)."""
    try:
        delta = clock_sync.ClockAdvance(days=days, hours=hours).delta
    except ValidationError as exc:
        typer.echo(f"error: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from None

    async def work(settings: Settings) -> str:
        async def advance(uow: UnitOfWork) -> str:
            moved = await clock_sync.advance(uow, CLI_PRINCIPAL, delta, settings)
            ahead = timedelta(seconds=moved.offset_seconds)
            return f"clock moved forward by {delta}; the suite is now {ahead} ahead of real time"

        return await _in_common_uow(settings, advance)

    typer.echo(_run(work))


@app.command("revision")
def revision(
    schema: Annotated[str, typer.Option(help="common, governance, inspection, monitoring, accountability")],
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does")],
) -> None:
    """Autogenerate a migration of one schema from its models (against DUDAO_DATABASE_URL)."""
    from alembic import command

    from dudao.migrations import alembic_config, histories

    settings = _settings()
    location = dict(histories()).get(schema)
    if location is None or settings.database_url is None:
        typer.echo(f"error: no schema {schema!r}; one of {', '.join(dict(histories()))}", err=True)
        raise typer.Exit(2)
    command.revision(
        alembic_config(location, settings.database_url.get_secret_value()), message=message, autogenerate=True
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Where `dudao up` runs")] = "127.0.0.1",
) -> None:
    """Play the escalation loop against a running `dudao up` and print its timeline (under a minute)."""
    import httpx

    from dudao.dev.demo import SuiteUnreachable, play, suite_urls
    from dudao.dev.suite import SuiteError

    settings = _development_settings()
    try:
        asyncio.run(play(suite_urls(host), settings, typer.echo))
    except (SuiteUnreachable, SuiteError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (TimeoutError, RuntimeError, OSError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc} (is `dudao up` running, with the clock adjustable?)", err=True)
        raise typer.Exit(1) from None


@app.command("openapi")
def openapi(service: Annotated[str, typer.Argument(help="governance, school-inspection, …")]) -> None:
    """Print a service's OpenAPI document."""
    import importlib

    spec = next((s for s in service_specs() if s.name == service), None)
    if spec is None:
        typer.echo(f"error: no service {service!r}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(importlib.import_module(f"{spec.package}.main").app.openapi(), ensure_ascii=False))


def _taken_names() -> set[str]:
    """The names of the kit's own commands and groups: a service's group may not shadow one."""
    groups = {g.name for g in app.registered_groups if g.name}
    commands = {
        c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if c.callback
    }
    return groups | commands


def mount_service_commands() -> None:
    """Mount every service's command group, found by the entry point group ``dudao.cli`` (the kit never
    imports a service): ``schools = "school_inspection.cli:app"`` becomes ``dudao schools …``.

    A group that does not load, or whose name is taken, is reported and left out: the rest still works.
    """
    taken = _taken_names()
    for ep in sorted(entry_points(group="dudao.cli"), key=lambda ep: ep.name):
        if ep.name in taken:
            typer.echo(f"warning: `dudao {ep.name}` already exists; {ep.value} is not mounted", err=True)
            continue
        try:
            group = ep.load()
        except Exception as exc:
            typer.echo(f"warning: `dudao {ep.name}` is unavailable: {ep.value} failed ({exc!r})", err=True)
            continue
        if not isinstance(group, typer.Typer):
            typer.echo(f"warning: `dudao {ep.name}` is unavailable: {ep.value} is not a Typer app", err=True)
            continue
        app.add_typer(group, name=ep.name)
        taken.add(ep.name)


mount_service_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
