"""The rectification contracts: one statically declared class per origin service and kind, and steps
published per origin."""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from dudao.contracts.rectification import (
    EVENTS,
    ORIGINS,
    EscalationStepTaken,
    Origin,
    event_for,
    steps_subject,
)
from dudao.events.catalog import event_class, stream_subject

KINDS = (
    "opened",
    "due_soon",
    "overdue",
    "submitted",
    "accepted",
    "rejected",
    "reopened",
    "closed",
    "deadline_recomputed",
)


def test_the_origin_of_a_rectification_event_is_its_service_name() -> None:
    assert ORIGINS == ("governance", "school-inspection", "monitoring")
    for origin in ORIGINS:
        assert set(EVENTS[origin]) == set(KINDS)
        for kind in KINDS:
            cls = event_for(origin, kind)
            assert cls.event_type == f"dudao.{origin}.rectification.{kind}.v1"
            assert event_class(cls.event_type) is cls
            assert cls.source_service() == origin
            assert get_args(cls.model_fields["origin"].annotation) == (origin,)


def _overdue(origin: str) -> dict[str, Any]:
    return {
        "division": "450102",
        "origin": origin,
        "rectification_id": "r",
        "finding_id": "f",
        "category": "safety",
        "severity": "major",
        "unit_id": "4501020001",
        "unit_kind": "school",
        "unit_name": "测试学校",
        "competent_department": None,
        "office_division": "450102",
        "deadline": date(2026, 5, 1),
        "provisional_deadline": False,
    }


def test_an_event_of_one_origin_cannot_name_another() -> None:
    event_for("monitoring", "overdue").model_validate(_overdue("monitoring"))
    with pytest.raises(ValidationError):
        event_for("monitoring", "overdue").model_validate(_overdue("school-inspection"))


def _step(origin: Origin | None) -> EscalationStepTaken:
    return EscalationStepTaken(
        division="450102",
        case_id="c",
        step_id="s",
        origin=origin,
        rectification_id="r" if origin else None,
        step_index=0,
        step_kind="urging_order",
        reason="overdue" if origin else "visits_behind",
        document_number=None,
        new_deadline=None,
    )


@pytest.mark.parametrize("origin", [*ORIGINS, None])
def test_a_step_is_published_on_a_subject_that_names_the_service_it_goes_back_to(
    origin: Origin | None,
) -> None:
    data = _step(origin).model_dump(mode="json")
    subject = stream_subject(EscalationStepTaken.event_type, data)
    assert subject == f"dudao.accountability.escalation.step_taken.v1.{origin or 'none'}"
    if origin is not None:
        assert subject == steps_subject(origin)
