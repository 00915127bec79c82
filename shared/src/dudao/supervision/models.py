"""Tables of the supervision procedure (schemaless KitModel: each service keeps them in its schema).

The inspector tables are a projection of school-inspection's inspector events, kept the same way in every
service that runs supervisions: each fact in a table of its own, so that the order in which the durables
deliver them does not matter.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dudao.db import IdMixin, KitModel, enum_column
from dudao.rectification.models import UnitKind


class SupervisionKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合督导
    SPECIAL = "special"  # 专项督导
    EMERGENCY = "emergency"  # 重大教育突发事件督导
    RANDOM = "random"  # 随机督导
    UNANNOUNCED = "unannounced"  # 暗访

    @property
    def announced(self) -> bool:
        """Announced supervisions give written notice and ask for a self-evaluation first; unannounced
        visits and emergencies go on site at once."""
        return self not in (SupervisionKind.UNANNOUNCED, SupervisionKind.EMERGENCY)


class SupervisionStatus(StrEnum):
    """The procedure of RULES.md §3, in its only order (unannounced and emergency supervisions skip the
    notice and the self-evaluation)."""

    PLANNED = "planned"  # opened with its plan, checklist and units
    NOTIFIED = "notified"  # the written notice went out ahead of the on-site work
    SELF_EVALUATION = "self_evaluation"  # units are submitting their self-evaluations
    ON_SITE = "on_site"  # the team is on site, hearing pupils, parents and teachers
    PRELIMINARY_OPINION = "preliminary_opinion"  # the preliminary opinion, item by item
    FEEDBACK = "feedback"  # fed back by meeting or written notice; the units may reply (申辩)
    OPINION_ISSUED = "opinion_issued"  # the supervision opinion with its number; findings raised
    REPORTED = "reported"  # the report approved by the office (reported to the government)
    PUBLISHED = "published"  # the report published (二七)


class TeamRole(StrEnum):
    LEADER = "leader"  # 组长
    MEMBER = "member"


class HeardGroup(StrEnum):
    PUPILS = "pupils"
    PARENTS = "parents"
    TEACHERS = "teachers"


class FeedbackMode(StrEnum):
    MEETING = "meeting"  # 反馈会议
    WRITTEN = "written"  # 书面反馈通知


class Supervision(IdMixin, KitModel):
    __tablename__ = "supervision"

    kind: Mapped[SupervisionKind] = mapped_column(enum_column(SupervisionKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(100))
    ref: Mapped[str | None] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(Text)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    office_division: Mapped[str] = mapped_column(String(6))
    # The division common to the units: where the supervision happens, and whose offices see it.
    division_code: Mapped[str] = mapped_column(String(6))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[SupervisionStatus] = mapped_column(enum_column(SupervisionStatus, 30))
    notice_text: Mapped[str | None] = mapped_column(Text)
    notified_on: Mapped[date | None]
    on_site_on: Mapped[date | None]
    preliminary_opinion: Mapped[str | None] = mapped_column(Text)
    # The problems found, item by item: [{unit_id, checklist_code, text}]
    preliminary_items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    feedback_mode: Mapped[FeedbackMode | None] = mapped_column(enum_column(FeedbackMode, 10))
    feedback_on: Mapped[date | None]
    feedback_text: Mapped[str | None] = mapped_column(Text)
    # Who was invited to a feedback meeting and whether they came: [{body, name, post, attended}]
    feedback_attendance: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    reply_due: Mapped[date | None]
    opinion_number: Mapped[str | None] = mapped_column(String(60))
    opinion_text: Mapped[str | None] = mapped_column(Text)
    opinion_issued_on: Mapped[date | None]
    report_title: Mapped[str | None] = mapped_column(String(200))
    report_text: Mapped[str | None] = mapped_column(Text)
    report_approved_by: Mapped[str | None] = mapped_column(String(200))
    report_approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    units: Mapped[list[SupervisionUnit]] = relationship(lazy="raise", order_by="SupervisionUnit.unit_id")
    team: Mapped[list[TeamMember]] = relationship(lazy="raise", order_by="TeamMember.inspector_id")
    hearings: Mapped[list[Hearing]] = relationship(lazy="raise", order_by="Hearing.id")

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index(
            "ix_supervision_division_code",
            "division_code",
            postgresql_ops={"division_code": "text_pattern_ops"},
        ),
        Index("ix_supervision_updated_at", "updated_at", "id"),
        Index("ix_supervision_published", "published_at", postgresql_where="published_at IS NOT NULL"),
    )


class SupervisionUnit(KitModel):
    """A supervised unit of a supervision, with its self-evaluation and its reply (申辩)."""

    __tablename__ = "supervision_unit"

    supervision_id: Mapped[UUID] = mapped_column(ForeignKey("supervision.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 20))
    unit_name: Mapped[str] = mapped_column(String(200))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    self_evaluation: Mapped[str | None] = mapped_column(Text)
    self_evaluation_evidence_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid()), default=list)
    self_evaluated_at: Mapped[datetime | None]
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_supervision_unit_unit_id", "unit_id"),)


class TeamMember(KitModel):
    """An inspector of the supervision team (督导组)."""

    __tablename__ = "supervision_team_member"

    supervision_id: Mapped[UUID] = mapped_column(ForeignKey("supervision.id"), primary_key=True)
    inspector_id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[TeamRole] = mapped_column(enum_column(TeamRole, 10))


class Hearing(IdMixin, KitModel):
    """A hearing on site (座谈、访谈): which group was heard, how many, and what they said. Never names."""

    __tablename__ = "supervision_hearing"

    supervision_id: Mapped[UUID] = mapped_column(ForeignKey("supervision.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(100))
    heard_group: Mapped[HeardGroup] = mapped_column(enum_column(HeardGroup, 10))
    heard_count: Mapped[int]
    heard_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("heard_count > 0", name="heard_count_positive"),)


# The inspector projection ---------------------------------------------------------------------------


class InspectorAppointment(KitModel):
    """An inspector whose appointment was announced (InspectorAppointed)."""

    __tablename__ = "supervision_inspector"

    inspector_id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_code: Mapped[str] = mapped_column(String(6))  # the appointing office's
    employment: Mapped[str] = mapped_column(String(20))
    appointed_on: Mapped[date]


class InspectorTermServed(KitModel):
    """A term of a part-time inspector (from the appointment and each renewal)."""

    __tablename__ = "supervision_inspector_term"

    inspector_id: Mapped[UUID] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(primary_key=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]


class InspectorTraining(KitModel):
    __tablename__ = "supervision_inspector_training"

    training_id: Mapped[UUID] = mapped_column(primary_key=True)
    inspector_id: Mapped[UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date]


class InspectorTie(KitModel):
    """A tie of an inspector to a unit that makes them recuse (回避) from supervising it."""

    __tablename__ = "supervision_inspector_tie"

    inspector_id: Mapped[UUID] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))


class InspectorEnded(KitModel):
    """An inspector whose appointment ended: they serve on no team from ``ended_on``."""

    __tablename__ = "supervision_inspector_ended"

    inspector_id: Mapped[UUID] = mapped_column(primary_key=True)
    ended_on: Mapped[date]
