"""Monitoring's findings and rectifications: the kit's capability, for what evaluations and monitoring find.

Collection deadlines, balanced-development verdicts and early-warning alerts raise their findings through
``rectifications.service`` too.
"""

from __future__ import annotations

from dudao import rectification

# Findings at schools and county governments, which monitoring keeps no register of: units as given.
rectifications = rectification.capability(
    origin="monitoring", visibility=rectification.units_see_their_own, resolve_unit=rectification.as_given
)
