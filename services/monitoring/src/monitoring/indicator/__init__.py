"""The indicator library: indicator systems, data elements and their formulas, standards."""
