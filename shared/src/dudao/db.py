"""Database plumbing: one engine per process, schemas per service, named constraints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Enum, Index, MetaData, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dudao.config import Settings
from dudao.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KIT_SCHEMA = "common"


def schema_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


# Every declarative base maps these annotations the same way (timestamps are always timezone-aware).
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


class KitModel(DeclarativeBase):
    """Models the kit defines once and every service that uses them keeps in its own schema.

    Their tables have no schema of their own: a service's engine translates them into its schema, and
    its migrations copy them into its metadata (see ``dudao.migrations``).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


def division_index(table: str) -> Index:
    """The index that serves jurisdiction prefixes (``division_code LIKE '4501%'``)."""
    return Index(
        f"ix_{table}_division_code", "division_code", postgresql_ops={"division_code": "text_pattern_ops"}
    )


def enum_column(enum: type[StrEnum], length: int) -> Enum:
    """The column type of a StrEnum: its members' values (not their names) in a VARCHAR(``length``).

    Not a native PostgreSQL enum, so a new member needs no type migration; named after the enum class
    (``SchoolType`` → ``schooltype``), as SQLAlchemy names enum types.
    """
    return Enum(
        enum,
        name=enum.__name__.lower(),
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class IdMixin:
    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)


def asyncpg_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def create_engine(
    settings: Settings,
    *,
    application_name: str = "dudao",
    pool_size: int | None = None,
    schema: str | None = None,
) -> AsyncEngine:
    """The process's engine. With ``schema``, the kit's schemaless models (KitModel) live in that schema."""
    if settings.database_url is None:
        raise RuntimeError("DUDAO_DATABASE_URL is not set (dudao up sets it for the embedded server)")
    engine = create_async_engine(
        asyncpg_url(settings.database_url.get_secret_value()),
        pool_size=pool_size or settings.database_pool_size,
        # A fixed pool: overflow connections would be opened and closed again under every burst.
        max_overflow=0,
        pool_pre_ping=False,
        echo=settings.database_echo,
        # A failed statement's parameters are names, phone numbers and ID numbers: never in a log line.
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": application_name, "timezone": "UTC"}},
    )
    if schema is not None:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in one transaction that commits on success and rolls back on error."""
    async with sessions() as session, session.begin():
        yield session


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke, as asyncpg reports it (through SQLAlchemy's
    adapter, or directly from a statement sent to the driver)."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        name = getattr(error, "constraint_name", None)
        if isinstance(name, str):
            return name
    return None


def unique_violation(exc: IntegrityError, constraint: str) -> bool:
    return violated_constraint(exc) == constraint


async def database_reachable(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
