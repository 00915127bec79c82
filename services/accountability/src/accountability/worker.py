"""The accountability worker: relay, consumers and scheduled jobs. ``python -m accountability.worker``."""

from dudao.worker import main

if __name__ == "__main__":
    main("accountability.main:spec")
