"""Development tooling: embedded PostgreSQL and NATS, and the ``dudao up`` / ``dudao down`` supervisor."""
