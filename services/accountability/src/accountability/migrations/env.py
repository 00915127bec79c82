from accountability.main import spec
from dudao.migrations import run_env

run_env(spec.migration_metadata())
