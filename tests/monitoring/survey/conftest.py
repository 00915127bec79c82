"""Surveys share early warning's fixtures: monitoring's engine, the seeded 2017 system, the roster."""

from tests.monitoring.warning.conftest import monitoring_engine, roster, system_id

__all__ = ["monitoring_engine", "roster", "system_id"]
