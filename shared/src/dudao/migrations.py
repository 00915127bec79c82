"""One Alembic history per schema: ``common`` (the kit's) first, then each service's.

Each history's ``env.py`` is two lines that call ``run_env`` with its metadata.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from dudao.db import KIT_SCHEMA, asyncpg_url
from dudao.service import ServiceSpec


def service_specs() -> list[ServiceSpec]:
    """The installed services, found by entry point so that the kit never imports a service."""
    specs = [ep.load() for ep in entry_points(group="dudao.services")]
    return sorted(specs, key=lambda s: s.port)


def histories() -> list[tuple[str, str]]:
    """(schema, script location) in the order they migrate."""
    return [(KIT_SCHEMA, "dudao.common:migrations")] + [
        (s.schema, f"{s.package}:migrations") for s in service_specs()
    ]


def alembic_config(script_location: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
    return cfg


def upgrade_all(database_url: str) -> None:
    for _schema, location in histories():
        # "heads": parallel branches of one history apply together until a merge revision joins them.
        command.upgrade(alembic_config(location, database_url), "heads")


def run_env(metadata: MetaData) -> None:
    """The body of every history's env.py: migrate ``metadata.schema`` and nothing else."""
    schema = metadata.schema
    assert schema
    url = context.config.get_main_option("sqlalchemy.url")
    assert url

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True

    def do_run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            include_name=include_name,
            version_table_schema=schema,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        raise RuntimeError("offline migrations are not supported; run against a database")
    asyncio.run(run())
