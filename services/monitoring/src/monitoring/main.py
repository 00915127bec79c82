"""Monitoring and evaluation (评估监测): indicators, data, agencies, balanced development.

``uvicorn monitoring.main:app``
"""

from dudao.db import KitModel
from dudao.evidence.endpoints import router as evidence_router
from dudao.http.app import create_service_app
from dudao.service import ServiceSpec
from monitoring.agency.endpoints import router as agency_router
from monitoring.balance.endpoints import router as balance_router
from monitoring.collection import scheduled as collection_jobs
from monitoring.collection.endpoints import router as collection_router
from monitoring.db import SCHEMA, Base, kit
from monitoring.indicator.endpoints import router as indicator_router
from monitoring.rectifications import rectifications
from monitoring.roster import handlers as roster_handlers
from monitoring.roster.endpoints import router as roster_router
from monitoring.survey import scheduled as survey_jobs
from monitoring.survey.endpoints import router as survey_router
from monitoring.warning import handlers as warning_handlers
from monitoring.warning import scheduled as warning_jobs
from monitoring.warning.endpoints import router as warning_router

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
    routers=[
        roster_router,
        indicator_router,
        collection_router,
        agency_router,
        balance_router,
        evidence_router,
        warning_router,
        survey_router,
        *rectifications.routers,
    ],
    consumers=[
        roster_handlers.schools_registered,
        roster_handlers.schools_updated,
        roster_handlers.schools_registered_v2,
        roster_handlers.schools_updated_v2,
        warning_handlers.submissions_approved,
        *rectifications.consumers,
    ],
    jobs=[
        *rectifications.jobs,
        *collection_jobs.jobs(),
        warning_jobs.nightly,
        survey_jobs.publish_rates,
        survey_jobs.forget_windows,
    ],
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
