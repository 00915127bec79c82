"""``dudao schools …``: the school register from the console, through the same service code as the API.

Mounted on the ``dudao`` command as ``schools``; runnable alone as ``python -m school_inspection.cli``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dudao.auth.principal import Principal, Role
from dudao.clock import clock
from dudao.config import Settings
from dudao.db import create_engine, session_factory
from dudao.encryption import field_cipher
from dudao.errors import DomainError
from dudao.runtime import load_divisions  # the deployment's divisions, as services load them
from dudao.uow import Actor, UnitOfWork
from school_inspection.db import SCHEMA, kit
from school_inspection.school import importing, service

app = typer.Typer(help="The school register (学校).", no_args_is_help=True)
SERVICE = "school-inspection"


@app.callback()
def schools() -> None:
    """The school register (学校)."""  # a group even with one command, so ``import`` stays a word


async def _import(
    settings: Settings, division: str, rows: list[importing.ParsedRow], progress: service.Progress
) -> service.ImportResult:
    engine = create_engine(settings, application_name="dudao-cli", pool_size=1, schema=SCHEMA)
    try:
        sessions = session_factory(engine)
        divisions = await load_divisions(sessions)
        divisions.require(division)
        # The console acts as that division's supervision office: its jurisdiction bounds the import.
        who = Principal(
            sub="cli", name="dudao CLI", roles=frozenset({Role.SUPERVISION_OFFICE}), division=division
        )
        async with sessions() as session:
            uow = UnitOfWork(
                session=session, kit=kit, source=f"/dudao/{SERVICE}", clock=clock, actor=Actor("cli", "cli")
            )
            cipher = field_cipher(settings)
            result = await service.import_rows(uow, who, divisions, cipher, rows, progress=progress)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"error: {exc.detail}", err=True)
    for error in exc.extensions.get("errors", []):
        where = f"row {error['row']}" + (f", {error['column']}" if error["column"] else "")
        typer.echo(f"  {where}: {error['reason']}", err=True)
    return typer.Exit(2)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV file or an Excel .xlsx")],
    as_division: Annotated[
        str, typer.Option("--as-division", help="Act as the supervision office of this division")
    ],
) -> None:
    """Import a school register, all rows or none (the columns of ``GET /v1/schools/export``)."""
    settings = Settings.for_service(SERVICE)
    try:
        table = importing.open_table(file.name, file.read_bytes())
        columns = (
            TextColumn("{task.description:>9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns) as bar:
            tasks = {
                "read": bar.add_task("reading", total=table.estimated_rows),
                "checked": bar.add_task("checking", total=None),
                "written": bar.add_task("writing", total=None),
            }
            rows = importing.parse(
                table,
                on_row=lambda number: bar.update(tasks["read"], completed=number - importing.HEADER_ROW),
            )
            bar.update(tasks["read"], total=len(rows), completed=len(rows))

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(tasks[phase], completed=done, total=total)

            result = asyncio.run(_import(settings, as_division, rows, progress))
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"{result.rows} rows: {result.inserted} registered, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )


if __name__ == "__main__":
    app()
