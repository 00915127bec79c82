from dudao.migrations import run_env
from monitoring.main import spec

run_env(spec.migration_metadata())
