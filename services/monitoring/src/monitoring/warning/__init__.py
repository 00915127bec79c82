"""Dynamic monitoring and early warning (动态监测 · 预警): rules, alerts and cross-checks."""
