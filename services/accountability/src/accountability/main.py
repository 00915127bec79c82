"""Accountability: feedback, urging orders, interviews, circulars, accountability decisions.

``uvicorn accountability.main:app``
"""

from accountability.db import SCHEMA, Base, kit
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
)

app = create_service_app(spec)
