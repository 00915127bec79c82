"""Supervised units that are not schools: governments, departments and their responsible people."""
