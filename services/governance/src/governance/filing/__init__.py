"""Upward filing (向上级报告): work plans, major matters and supervision results."""
