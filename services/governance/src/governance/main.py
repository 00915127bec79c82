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
from governance.committee.endpoints import router as committees_router
from governance.db import SCHEMA, Base, kit
from governance.dropout.endpoints import router as dropout_router
from governance.evaluation.endpoints import router as evaluation_router
from governance.filing import scheduled as filing_jobs
from governance.filing.endpoints import router as filings_router
from governance.office.endpoints import router as offices_router
from governance.rectifications import rectifications
from governance.special import scheduled as special_jobs
from governance.special.endpoints import router as special_router
from governance.supervisions import supervisions
from governance.unit.endpoints import router as units_router

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
        *supervisions.routers,
        units_router,
        offices_router,
        committees_router,
        filings_router,
        special_router,
        dropout_router,
        evaluation_router,
    ],
    consumers=[*numbering.consumers("governance"), *rectifications.consumers, *supervisions.consumers],
    jobs=[*rectifications.jobs, *special_jobs.jobs(), *filing_jobs.jobs()],
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
