"""Monitoring and evaluation (评估监测): indicators, data, agencies, balanced development.

``uvicorn monitoring.main:app``
"""

from dudao.config import Settings
from dudao.db import KitModel
from dudao.http.app import create_service_app
from dudao.rectification import handlers as rectification_handlers
from dudao.rectification import scheduled as rectification_scheduled
from dudao.rectification.endpoints import router as rectification_router
from dudao.service import ServiceSpec
from monitoring.db import SCHEMA, Base, kit
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
    routers=[roster_router, rectification_router],
    consumers=[
        roster_handlers.schools_registered,
        roster_handlers.schools_updated,
        *rectification_handlers.consumers("monitoring"),
    ],
    jobs=rectification_scheduled.jobs(Settings.for_service("monitoring")),
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
