"""The monitoring worker: relay, consumers and scheduled jobs. ``python -m monitoring.worker``."""

from dudao.worker import main

if __name__ == "__main__":
    main("monitoring.main:spec")
