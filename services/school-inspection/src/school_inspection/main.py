"""School inspection (督学): schools, inspectors, zones, visits. ``uvicorn school_inspection.main:app``."""

from dudao import numbering
from dudao.db import KitModel
from dudao.evidence.endpoints import router as evidence_router
from dudao.http.app import create_service_app
from dudao.service import ServiceSpec
from school_inspection.cycle.endpoints import router as cycle_router
from school_inspection.db import SCHEMA, Base, kit
from school_inspection.draw.endpoints import router as draw_router
from school_inspection.inspector.endpoints import router as inspector_router
from school_inspection.plate.endpoints import router as plate_router
from school_inspection.principal.endpoints import router as principal_router
from school_inspection.rectifications import rectifications
from school_inspection.school.endpoints import router as school_router
from school_inspection.self_supervision.endpoints import router as self_supervision_router
from school_inspection.supervisions import supervisions
from school_inspection.visit import scheduled as visit_scheduled
from school_inspection.visit.endpoints import router as visit_router
from school_inspection.zone.endpoints import router as zone_router

spec = ServiceSpec(
    name="school-inspection",
    package="school_inspection",
    schema=SCHEMA,
    port=8102,
    title="Dudao · School inspection (督学)",
    description=(
        "Schools, responsible inspectors, inspection zones, plates, visits and random draws; findings at "
        "schools and their rectification."
    ),
    metadata=Base.metadata,
    kit=kit,
    routers=[
        school_router,
        evidence_router,
        *rectifications.routers,
        *supervisions.routers,
        inspector_router,
        zone_router,
        plate_router,
        principal_router,
        self_supervision_router,
        visit_router,
        draw_router,
        cycle_router,
    ],
    consumers=[*rectifications.consumers, *numbering.consumers("school-inspection"), *supervisions.consumers],
    jobs=[*rectifications.jobs, *visit_scheduled.jobs()],
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
