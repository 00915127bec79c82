"""Accountability: feedback, urging orders, interviews, circulars, accountability decisions.

``uvicorn accountability.main:app``
"""

from accountability.consequences import handlers as consequence_handlers
from accountability.db import SCHEMA, Base, kit
from accountability.documents.endpoints import router as documents_router
from accountability.escalation import handlers as escalation_handlers
from accountability.escalation.endpoints import router as escalation_router
from accountability.notifications.endpoints import router as notifications_router
from dudao import numbering
from dudao.http.app import create_service_app
from dudao.service import ServiceSpec

spec = ServiceSpec(
    name="accountability",
    package="accountability",
    schema=SCHEMA,
    port=8104,
    title="Dudao · Accountability (问责)",
    description="The escalation of unrectified findings: urging orders, interviews, circulars and "
    "accountability decisions, with their official document numbers.",
    metadata=Base.metadata,
    kit=kit,
    routers=[escalation_router, documents_router, notifications_router],
    consumers=[
        *escalation_handlers.CONSUMERS,
        *consequence_handlers.CONSUMERS,
        *numbering.consumers("accountability"),
    ],
    kit_models=[numbering.only_these_tables()],
)

app = create_service_app(spec)
