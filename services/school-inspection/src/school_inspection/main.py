"""School inspection (督学): schools, inspectors, zones, visits. ``uvicorn school_inspection.main:app``."""

from dudao.http.app import create_service_app
from dudao.service import ServiceSpec
from school_inspection.db import SCHEMA, Base, kit
from school_inspection.school.endpoints import router as school_router

spec = ServiceSpec(
    name="school-inspection",
    package="school_inspection",
    schema=SCHEMA,
    port=8102,
    title="Dudao · School inspection (督学)",
    description="Schools, responsible inspectors, inspection zones, plates, visits and random draws.",
    metadata=Base.metadata,
    kit=kit,
    routers=[school_router],
)

app = create_service_app(spec)
