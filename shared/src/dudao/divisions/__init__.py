"""Administrative divisions (行政区划) and jurisdiction by code prefix."""

from dudao.divisions.tree import Division, DivisionTree, InvalidDivisionCode, jurisdiction_prefix, load_tree

__all__ = ["Division", "DivisionTree", "InvalidDivisionCode", "jurisdiction_prefix", "load_tree"]
