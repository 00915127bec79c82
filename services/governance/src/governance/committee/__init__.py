"""Supervision committees (教育督导委员会), member units and their liaisons (联络员)."""
