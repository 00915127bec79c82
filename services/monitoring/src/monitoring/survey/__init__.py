"""Satisfaction surveys (社会认可度): surveys, single-use answer links, rates."""
