"""Governance supervision (督政): supervision bodies and offices, supervised units, upward filing, duty
evaluation of governments, special and emergency supervision, dropout control; hosts the API key admin.

``uvicorn governance.main:app``
"""

from dudao import numbering
from dudao.apikeys.endpoints import router as api_keys_router
from dudao.calendar.endpoints import router as calendar_router
from dudao.db import KitModel
from dudao.evidence.endpoints import router as evidence_router
from dudao.http.app import create_service_app
from dudao.http.system import clock_router
from dudao.service import ServiceSpec
from governance.db import SCHEMA, Base, kit
from governance.rectifications import rectifications

spec = ServiceSpec(
    name="governance",
    package="governance",
    schema=SCHEMA,
    port=8101,
    title="Dudao · Governance supervision (督政)",
    description="Supervision committees, offices and member units; supervised governments and departments; "
    "upward filing; the supervision procedure and duty evaluation of governments; special and emergency "
    "supervision; dropout control; findings at governments and departments and their rectification; and "
    "the platform's API key administration.",
    metadata=Base.metadata,
    kit=kit,
    routers=[
        api_keys_router,
        calendar_router,
        clock_router,
        evidence_router,
        *rectifications.routers,
    ],
    consumers=[*numbering.consumers("governance"), *rectifications.consumers],
    jobs=[*rectifications.jobs],
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
