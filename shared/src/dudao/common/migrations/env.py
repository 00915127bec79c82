import dudao.calendar.models  # noqa: F401 - its tables are in CommonBase's metadata
from dudao.common.models import CommonBase
from dudao.migrations import run_env

run_env(CommonBase.metadata)
