"""What a service tells the kit about itself, so that one factory builds its app and its worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter
from sqlalchemy import MetaData

from dudao.tables import KitTables

if TYPE_CHECKING:
    from dudao.events.consumer import Consumer
    from dudao.scheduler import ScheduledJob


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # the deploy unit, e.g. "school-inspection"
    package: str  # the importable package, e.g. "school_inspection"
    schema: str  # its PostgreSQL schema, e.g. "inspection"
    port: int
    title: str
    description: str
    metadata: MetaData
    kit: KitTables
    routers: Sequence[APIRouter] = ()
    consumers: Sequence[Consumer] = ()
    jobs: Sequence[ScheduledJob] = field(default_factory=tuple)
    # Kit capabilities whose schemaless tables (dudao.db.KitModel) this service keeps in its schema.
    kit_models: Sequence[MetaData] = ()

    def migration_metadata(self) -> MetaData:
        """The service's own tables plus the kit's, copied into its schema, for Alembic to compare."""
        if not self.kit_models:
            return self.metadata
        combined = MetaData(schema=self.schema, naming_convention=self.metadata.naming_convention)
        for table in self.metadata.tables.values():
            table.to_metadata(combined)
        for kit_metadata in self.kit_models:
            for table in kit_metadata.tables.values():
                table.to_metadata(combined, schema=self.schema)
        return combined

    @property
    def event_source(self) -> str:
        """CloudEvents ``source`` of what this service emits."""
        return f"/dudao/{self.name}"
