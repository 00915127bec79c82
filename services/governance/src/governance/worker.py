"""The governance worker: relay, consumers and scheduled jobs. ``python -m governance.worker``."""

from dudao.worker import main

if __name__ == "__main__":
    main("governance.main:spec")
