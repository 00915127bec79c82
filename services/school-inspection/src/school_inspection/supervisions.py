"""School inspection's supervisions of schools (督学): the kit's supervision procedure, for the
comprehensive supervisions of the five-year cycle and special supervisions, whose opinions raise findings
in school inspection's rectification loop."""

from __future__ import annotations

from uuid import UUID

from dudao import supervision
from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree
from dudao.rectification.schemas import SupervisedUnit
from dudao.uow import UnitOfWork
from school_inspection.rectifications import rectifications
from school_inspection.school import service as schools
from school_inspection.school.service import SchoolNotFound, supervised_unit


async def lookup_school(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit_id: str
) -> SupervisedUnit:
    """A school of the registry, by its id, as a supervised unit: its id there is the school code (the
    ``org`` of its principal's token, as in its findings). 404 for an unknown or invisible school."""
    try:
        school_id = UUID(unit_id)
    except ValueError:
        raise SchoolNotFound(f"School {unit_id} does not exist") from None
    return supervised_unit(await schools.get(uow, who, school_id), None)


supervisions = supervision.capability(
    origin="school-inspection",
    rectifications=rectifications.service,
    lookup_unit=lookup_school,
    unit_not_found=SchoolNotFound,
)
