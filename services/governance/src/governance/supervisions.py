"""Governance's supervisions (督政): the kit's supervision procedure, of registered governments and
departments, whose opinions raise findings in governance's rectification loop.

Duty evaluations (their review is a supervision, ref ``duty-evaluation:<id>``) and special and
emergency supervisions open theirs through ``supervisions.service``.
"""

from __future__ import annotations

from dudao import supervision
from governance.rectifications import rectifications
from governance.unit.service import SupervisedUnitNotFound, lookup_unit

supervisions = supervision.capability(
    origin="governance",
    rectifications=rectifications.service,
    lookup_unit=lookup_unit,
    unit_not_found=SupervisedUnitNotFound,
)
