"""School inspection's findings and rectifications: the kit's capability, with schools from the registry.

The visits and the principal evaluations raise their findings through ``rectifications.service`` too.
"""

from __future__ import annotations

from sqlalchemy import select

from dudao import rectification
from dudao.auth.principal import Principal
from dudao.divisions.tree import DivisionTree
from dudao.rectification.models import UnitKind
from dudao.rectification.schemas import SupervisedUnit
from dudao.uow import UnitOfWork
from school_inspection.school.models import School
from school_inspection.school.service import supervised_unit


async def resolve_school(
    uow: UnitOfWork, who: Principal, divisions: DivisionTree, unit: SupervisedUnit
) -> SupervisedUnit:
    """A school code in the registry is that school, with its registered name and division (so a finding
    cannot be filed under another county's name); a code not registered yet, as the office describes it."""
    if unit.kind != UnitKind.SCHOOL:
        return unit
    school = (
        await uow.session.execute(select(School).where(School.school_code == unit.id))
    ).scalar_one_or_none()
    return unit if school is None else supervised_unit(school, unit.competent_department)


rectifications = rectification.capability(
    origin="school-inspection", visibility=rectification.units_see_their_own, resolve_unit=resolve_school
)
