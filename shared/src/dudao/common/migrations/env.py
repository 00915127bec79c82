from dudao.common.models import CommonBase
from dudao.migrations import run_env

run_env(CommonBase.metadata)
