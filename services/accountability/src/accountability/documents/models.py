"""Formal documents (公文) and their official numbers (文号).

A document is what a step of the escalation issues: an urging order (督办单), an interview (约谈) with its
written record, a circular (通报) or an accountability decision (问责决定). The common part lives in
``document``; what only one kind has lives in a table of that kind, one row per document.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import cast
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Table, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accountability.db import SCHEMA, Base
from dudao.db import IdMixin, division_index, enum_column


class DocumentKind(StrEnum):
    URGING_ORDER = "urging_order"  # 督办单
    INTERVIEW = "interview"  # 约谈
    CIRCULAR = "circular"  # 通报
    ACCOUNTABILITY_DECISION = "accountability_decision"  # 问责决定
    COMMENDATION = "commendation"  # 表彰: an excellent result of a duty evaluation (item 二十一)
    EVALUATION_RESULTS = "evaluation_results"  # a round's duty evaluation results, for 组织部门 (二十一)


# What a step of the escalation issues; the other kinds are consequences of governance's facts.
STEP_KINDS = frozenset(
    {
        DocumentKind.URGING_ORDER,
        DocumentKind.INTERVIEW,
        DocumentKind.CIRCULAR,
        DocumentKind.ACCOUNTABILITY_DECISION,
    }
)


class DecisionStatus(StrEnum):
    PENDING = "pending"
    DECIDED = "decided"


class DecisionTarget(StrEnum):
    BODY = "body"  # the supervised body itself
    PERSON = "person"  # its responsible people


class AccountabilityForm(StrEnum):
    """The forms of 《教育督导问责办法》 (RULES.md §5)."""

    PUBLIC_CRITICISM = "public_criticism"  # 公开批评
    INTERVIEW = "interview"  # 约谈 (body or people)
    CIRCULAR = "circular"  # 督导通报
    RESOURCE_ADJUSTMENT = "resource_adjustment"  # 调整资源配置
    ADMINISTRATIVE_PENALTY = "administrative_penalty"  # 行政处罚
    SELF_EXAMINATION = "self_examination"  # 责令检查
    CIRCULAR_OF_CRITICISM = "circular_of_criticism"  # 通报批评
    ORGANISATIONAL_HANDLING = "organisational_handling"  # 组织处理
    DISCIPLINARY_SANCTION = "disciplinary_sanction"  # 处分
    TRANSFER_TO_ORGANS = "transfer_to_organs"  # 移送监察或司法机关


FORMS: dict[DecisionTarget, frozenset[AccountabilityForm]] = {
    DecisionTarget.BODY: frozenset(
        {
            AccountabilityForm.PUBLIC_CRITICISM,
            AccountabilityForm.INTERVIEW,
            AccountabilityForm.CIRCULAR,
            AccountabilityForm.RESOURCE_ADJUSTMENT,
            AccountabilityForm.ADMINISTRATIVE_PENALTY,
        }
    ),
    DecisionTarget.PERSON: frozenset(
        {
            AccountabilityForm.SELF_EXAMINATION,
            AccountabilityForm.INTERVIEW,
            AccountabilityForm.CIRCULAR_OF_CRITICISM,
            AccountabilityForm.ORGANISATIONAL_HANDLING,
            AccountabilityForm.DISCIPLINARY_SANCTION,
            AccountabilityForm.TRANSFER_TO_ORGANS,
        }
    ),
}


class Document(IdMixin, Base):
    __tablename__ = "document"

    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, 30))
    # 桂教督办〔2026〕12号; None only while an accountability decision waits for a person to take it.
    number: Mapped[str | None] = mapped_column(String(60))
    year: Mapped[int | None]
    serial: Mapped[int | None]
    office_division: Mapped[str] = mapped_column(String(6))
    case_id: Mapped[UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.escalation_case.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    unit_kind: Mapped[str] = mapped_column(String(30))
    unit_name: Mapped[str] = mapped_column(String(200))
    competent_department: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(6))
    grounds: Mapped[str] = mapped_column(Text)  # why it was issued, in a sentence the texts build on
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))

    urging_order: Mapped[UrgingOrder | None] = relationship(lazy="raise")
    interview: Mapped[Interview | None] = relationship(lazy="raise")
    circular: Mapped[Circular | None] = relationship(lazy="raise")
    decision: Mapped[AccountabilityDecision | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint("(number IS NULL) = (issued_at IS NULL)", name="numbered_when_issued"),
        # Two offices may share an abbreviation; the serial is unique per office, kind and year.
        UniqueConstraint("office_division", "kind", "year", "serial"),
        division_index("document"),
        Index("ix_document_case_id", "case_id"),
    )


class UrgingOrder(Base):
    """督办单: addressed to the unit, copied to its competent department, with a new deadline."""

    __tablename__ = "urging_order"

    document_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.document.id"), primary_key=True)
    addressee: Mapped[str] = mapped_column(String(200))
    copied_to: Mapped[str | None] = mapped_column(String(200))
    new_deadline: Mapped[date | None]


class Interview(Base):
    """约谈: with the discipline inspection organ and the organisation department; its record is filed."""

    __tablename__ = "interview"

    document_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.document.id"), primary_key=True)
    scheduled_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300))
    participants: Mapped[list[str]] = mapped_column(JSONB)
    responsible_person: Mapped[str] = mapped_column(String(200))
    filed_with: Mapped[list[str]] = mapped_column(JSONB)
    record: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime | None]
    recorded_by: Mapped[str | None] = mapped_column(String(200))


class Circular(Base):
    """通报: to the local party committee, government and superior, recommending no honours or promotion."""

    __tablename__ = "circular"

    document_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.document.id"), primary_key=True)
    recipients: Mapped[list[str]] = mapped_column(JSONB)
    recommendation: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(200))


class AccountabilityDecision(Base):
    """问责决定: the ladder opens it pending; a person decides the form, the people and the reasons."""

    __tablename__ = "accountability_decision"

    document_id: Mapped[UUID] = mapped_column(ForeignKey(f"{SCHEMA}.document.id"), primary_key=True)
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus, 10))
    target: Mapped[DecisionTarget | None] = mapped_column(enum_column(DecisionTarget, 10))
    form: Mapped[AccountabilityForm | None] = mapped_column(enum_column(AccountabilityForm, 40))
    persons: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    reasons: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # Item (十四): a decision the office made public, for the public portal; only once decided.
    published: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (CheckConstraint("NOT published OR status = 'decided'", name="published_when_decided"),)


# The tables, for set-based writes.
DOCUMENTS = cast(Table, Document.__table__)
URGING_ORDERS = cast(Table, UrgingOrder.__table__)
INTERVIEWS = cast(Table, Interview.__table__)
CIRCULARS = cast(Table, Circular.__table__)
DECISIONS = cast(Table, AccountabilityDecision.__table__)
