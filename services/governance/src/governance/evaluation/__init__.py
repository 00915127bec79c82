"""Duty evaluation of governments (履行教育职责评价): schemes, rounds, scores and grades."""
