"""Monitoring and evaluation (评估监测): indicators, data, agencies, balanced development.

``uvicorn monitoring.main:app``
"""

from dudao.db import KitModel
from dudao.evidence.endpoints import router as evidence_router
from dudao.http.app import create_service_app
from dudao.service import ServiceSpec
from monitoring.db import SCHEMA, Base, kit
from monitoring.rectifications import rectifications
from monitoring.roster import handlers as roster_handlers
from monitoring.roster.endpoints import router as roster_router

spec = ServiceSpec(
    name="monitoring",
    package="monitoring",
    schema=SCHEMA,
    port=8103,
    title="Dudao · Monitoring and evaluation (评估监测)",
    description="Education quality monitoring, indicators and commissioned assessment agencies; findings "
    "from evaluations and their rectification.",
    metadata=Base.metadata,
    kit=kit,
    routers=[roster_router, evidence_router, *rectifications.routers],
    consumers=[
        roster_handlers.schools_registered,
        roster_handlers.schools_updated,
        *rectifications.consumers,
    ],
    jobs=rectifications.jobs,
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
