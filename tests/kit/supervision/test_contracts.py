"""The supervision events exist once per origin, and a supervision's division is the one its units share."""

from __future__ import annotations

from dudao.contracts.supervision import EVENTS, SUPERVISION_ORIGINS
from dudao.events.catalog import registered_types
from dudao.supervision.service import common_division


def test_every_origin_has_every_step_in_the_catalog() -> None:
    kinds = {"opened", "notified", "feedback_given", "opinion_issued", "report_published"}
    for origin in SUPERVISION_ORIGINS:
        assert set(EVENTS[origin]) == kinds
        for kind, cls in EVENTS[origin].items():
            assert cls.event_type == f"dudao.{origin}.supervision.{kind}.v1"
            assert cls.event_type in registered_types()


def test_the_division_of_a_supervision_is_the_smallest_one_holding_its_units() -> None:
    assert common_division(["450105"]) == "450105"
    assert common_division(["450105", "450108"]) == "450100"
    assert common_division(["450105", "450203"]) == "450000"
