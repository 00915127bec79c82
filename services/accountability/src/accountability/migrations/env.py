from dudao.migrations import run_env
from accountability.main import spec

run_env(spec.metadata)
