from dudao.migrations import run_env
from school_inspection.main import spec

run_env(spec.migration_metadata())
