"""Governance's findings and rectifications: the kit's capability, at governments and departments.

The supervision opinions, duty evaluations and dropout control raise their findings through
``rectifications.service`` too.
"""

from __future__ import annotations

from dudao import rectification

# Findings at governments and departments, units as given.
rectifications = rectification.capability(
    origin="governance", visibility=rectification.units_see_their_own, resolve_unit=rectification.as_given
)
