"""The Dudao kit: what every service shares (settings, database, auth, events, scheduler, audit, CLI)."""
