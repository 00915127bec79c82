"""The school-inspection worker: relay, consumers, scheduled jobs. ``python -m school_inspection.worker``."""

from dudao.worker import main

if __name__ == "__main__":
    main("school_inspection.main:spec")
