"""Governance's findings and rectifications: the kit's capability, at governments and departments.

The supervision opinions, duty evaluations and dropout control raise their findings through
``rectifications.service`` too.
"""

from __future__ import annotations

from dudao import rectification
from governance.unit.service import resolve_unit

# Findings at registered governments and departments (a unit's own principal sees its own).
rectifications = rectification.capability(
    origin="governance", visibility=rectification.units_see_their_own, resolve_unit=resolve_unit
)
