"""Monitoring and evaluation (评估监测): indicators, data, agencies, balanced development.

``uvicorn monitoring.main:app``
"""

from dudao.http.app import create_service_app
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
    description="Education quality monitoring, indicators and commissioned assessment agencies.",
    metadata=Base.metadata,
    kit=kit,
    routers=[roster_router],
    consumers=[roster_handlers.school_registered, roster_handlers.school_updated],
)

app = create_service_app(spec)
