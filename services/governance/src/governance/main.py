"""Governance supervision (督政): duty evaluation of governments, committees; hosts the API key admin.

``uvicorn governance.main:app``
"""

from dudao.apikeys.endpoints import router as api_keys_router
from dudao.calendar.endpoints import router as calendar_router
from dudao.config import Settings
from dudao.db import KitModel
from dudao.http.app import create_service_app
from dudao.http.system import clock_router
from dudao.rectification import handlers as rectification_handlers
from dudao.rectification import scheduled as rectification_scheduled
from dudao.rectification.endpoints import router as rectification_router
from dudao.service import ServiceSpec
from governance.db import SCHEMA, Base, kit

spec = ServiceSpec(
    name="governance",
    package="governance",
    schema=SCHEMA,
    port=8101,
    title="Dudao · Governance supervision (督政)",
    description="Duty evaluation of governments and departments, supervision committees and member units, "
    "findings at governments and departments and their rectification, and the platform's API key "
    "administration.",
    metadata=Base.metadata,
    kit=kit,
    routers=[api_keys_router, calendar_router, clock_router, rectification_router],
    consumers=rectification_handlers.consumers("governance"),
    jobs=rectification_scheduled.jobs(Settings.for_service("governance")),
    kit_models=[KitModel.metadata],
)

app = create_service_app(spec)
