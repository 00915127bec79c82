from dudao.migrations import run_env
from governance.main import spec

run_env(spec.migration_metadata())
