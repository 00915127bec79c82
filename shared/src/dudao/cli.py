"""The ``dudao`` command: run the suite, migrate, issue tokens and keys, replay events, verify the audit;
and the services' own command groups, mounted from their entry points (``dudao schools import …``)."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer
from pydantic import ValidationError

from dudao import audit, clock_sync
from dudao.apikeys import service as apikey_service
from dudao.apikeys.schemas import ApiKeyCreate, ApiKeyRead
from dudao.auth.principal import Principal, Role
from dudao.auth.tokens import issue_dev_token
from dudao.calendar import service as calendar_service
from dudao.calendar.schemas import NamedDay
from dudao.clock import clock
from dudao.common.models import common_kit
from dudao.config import Settings
from dudao.db import KIT_SCHEMA, create_engine, session_factory
from dudao.divisions.seed import read_divisions, seed_divisions
from dudao.errors import DomainError
from dudao.migrations import service_specs, upgrade_all
from dudao.tables import KitTables
from dudao.uow import Actor, UnitOfWork

app = typer.Typer(help="Dudao (督导): the education supervision platform.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
events_app = typer.Typer(help="The event stream and the outboxes.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit logs.", no_args_is_help=True)
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


def _settings() -> Settings:
    return Settings()


def _run(work: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work(_settings()))
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _kits() -> dict[str, KitTables]:
    kits = {KIT_SCHEMA: common_kit}
    kits.update({s.schema: s.kit for s in service_specs()})
    return kits


@app.command()
def up() -> None:
    """Start the whole suite on this machine (embedded PostgreSQL and NATS unless URLs are given)."""
    from dudao.dev.suite import run_suite

    raise typer.Exit(run_suite(_settings()))


@app.command()
def down() -> None:
    """Stop a suite started by ``dudao up``."""
    from dudao.dev.suite import stop_suite

    stop_suite(_settings().data_dir)


@app.command()
def migrate(
    divisions_csv: Annotated[Path | None, typer.Option(help="Another province's divisions")] = None,
) -> None:
    """Migrate every schema to its latest version, then seed the divisions and the holiday calendar."""
    settings = _settings()
    if settings.database_url is None:
        typer.echo("error: DUDAO_DATABASE_URL is not set", err=True)
        raise typer.Exit(2)
    upgrade_all(settings.database_url.get_secret_value())
    count = _run(lambda s: _seed_divisions(s, divisions_csv))
    years = _run(_seed_calendar)
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
                _settings(),
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


async def _in_common_uow(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
    try:
        async with session_factory(engine)() as session:
            uow = UnitOfWork(
                session=session, kit=common_kit, source="/dudao/cli", clock=clock, actor=CLI_ACTOR
            )
            result = await work(uow)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


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
    from dudao.events.nats import connect
    from dudao.events.stream import declare_stream

    async def work(settings: Settings) -> None:
        nc = await connect(settings.nats_url or "nats://127.0.0.1:4222", name="dudao-cli")
        try:
            await declare_stream(nc.jetstream(), replicas=replicas)
        finally:
            await nc.close()

    _run(work)
    typer.echo("stream DUDAO declared on dudao.>")


@events_app.command("replay")
def events_replay(
    schema: Annotated[str, typer.Option(help="Whose outbox: common, governance, inspection, …")],
    since_seq: Annotated[int | None, typer.Option(help="From this outbox sequence number")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this time (UTC)")] = None,
    event_type: Annotated[list[str] | None, typer.Option("--type", help="Only these types")] = None,
) -> None:
    """Republish events from an outbox (consumers apply each at most once, thanks to their inbox)."""
    from dudao.events.nats import connect
    from dudao.events.relay import replay

    kit = _kits().get(schema)
    if kit is None:
        typer.echo(f"error: no schema {schema!r}; one of {', '.join(_kits())}", err=True)
        raise typer.Exit(2)

    async def work(settings: Settings) -> int:
        engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
        nc = await connect(settings.nats_url or "nats://127.0.0.1:4222", name="dudao-cli")
        try:
            return await replay(
                engine, kit, nc.jetstream(), since_seq=since_seq, since_time=since, types=event_type
            )
        finally:
            await nc.close()
            await engine.dispose()

    typer.echo(f"{_run(work)} events republished")


@audit_app.command("verify")
def audit_verify(
    schema: Annotated[list[str] | None, typer.Option(help="Default: every schema")] = None,
) -> None:
    """Walk each audit chain and name the first broken link."""
    kits = _kits()
    chosen = schema or list(kits)
    unknown = [s for s in chosen if s not in kits]
    if unknown:
        typer.echo(f"error: no schema {', '.join(unknown)}; one of {', '.join(kits)}", err=True)
        raise typer.Exit(2)

    async def work(settings: Settings) -> list[tuple[str, audit.Verification]]:
        engine = create_engine(settings, application_name="dudao-cli", pool_size=1)
        try:
            async with engine.connect() as conn:
                return [(name, await audit.verify(conn, kits[name].audit_log)) for name in chosen]
        finally:
            await engine.dispose()

    failed = False
    for name, result in _run(work):
        if result.broken is None:
            pending = f"; {result.unsealed} not yet sealed by the worker" if result.unsealed else ""
            typer.echo(f"{name}: intact, {result.checked} entries{pending}")
        else:
            failed = True
            link = result.broken
            typer.echo(
                f"{name}: BROKEN at entry {link.chain_seq} (seq {link.seq}): {link.reason}; "
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
        typer.echo("error: unknown schema, or DUDAO_DATABASE_URL is not set", err=True)
        raise typer.Exit(2)
    command.revision(
        alembic_config(location, settings.database_url.get_secret_value()), message=message, autogenerate=True
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Where `dudao up` runs")] = "127.0.0.1",
) -> None:
    """Play the escalation loop against a running `dudao up` and print its timeline (under a minute)."""
    from dudao.dev.demo import play

    settings = _settings()
    urls = {s.name: f"http://{host}:{s.port}" for s in service_specs()}
    try:
        asyncio.run(play(urls, settings, typer.echo))
    except (TimeoutError, RuntimeError, OSError) as exc:
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
