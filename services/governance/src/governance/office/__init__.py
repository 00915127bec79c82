"""Supervision offices (督导机构): the one source of document-number abbreviations."""
