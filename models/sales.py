"""The sales records: customers, visits, opportunities, quotes and approvals, contracts, payments, reminders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType


class PhotoStatus(StrEnum):
    """`visit_photos.status`: recorded pending, then downloaded (saved) or given up (failed)."""

    PENDING = "pending"
    SAVED = "saved"
    FAILED = "failed"


class QuoteStatus(StrEnum):
    """`quotes.status`: pending while its approval steps run."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class StepStatus(StrEnum):
    """`approval_steps.status`: waiting for the earlier step, pending on its approver, then decided."""

    WAITING = "waiting"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ReminderStatus(StrEnum):
    """`reminders.status`: open until done or cancelled."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_owner", "owner_userid"), Index("ix_customers_region", "region"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    name_norm: Mapped[str] = mapped_column(String(128), index=True)
    industry: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_norm: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="configured custom fields")
    owner_userid: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    segment: Mapped[str | None] = mapped_column(String(16), comment="明星|成长|稳定|休眠; null = 潜在")
    segment_since: Mapped[date | None]
    complete: Mapped[bool] = mapped_column(default=False, comment="required and recommended fields filled")
    owner_since: Mapped[datetime | None] = mapped_column(
        comment="when the current owner got it (null: created_at)"
    )
    pooled_at: Mapped[datetime | None] = mapped_column(comment="in the pool (公海) since; null while owned")
    pool_hold_until: Mapped[datetime | None] = mapped_column(
        comment="an approved extension: not released before"
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_user_at", "userid", "visited_at"),
        Index("ix_visits_customer", "customer_id"),
        Index("ix_visits_at", "visited_at"),  # the company-wide digest: yesterday's visits
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    userid: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    visited_at: Mapped[datetime]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_label: Mapped[str | None] = mapped_column(String(255))
    distance_m: Mapped[float | None]
    location_anomaly: Mapped[bool] = mapped_column(default=False)
    photo_count: Mapped[int] = mapped_column(default=0)
    flag_note: Mapped[str | None] = mapped_column(
        String(255), comment="the rep's explanation of a location flag"
    )


class VisitPhoto(Base):
    """A photo of a visit. Recorded `pending` with the visit; downloaded after commit (services/photos.py)."""

    __tablename__ = "visit_photos"
    __table_args__ = (Index("ix_visit_photos_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(255))
    path: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[PhotoStatus] = mapped_column(StrEnumType(PhotoStatus), comment="pending|saved|failed")
    error: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opps_customer", "customer_id"),
        Index("ix_opps_owner_stage", "owner_userid", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal | None]
    stage: Mapped[str] = mapped_column(String(16))
    lost_reason: Mapped[str | None] = mapped_column(String(255))
    score: Mapped[int] = mapped_column(default=0)
    priority: Mapped[str] = mapped_column(String(1), default="C")
    score_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_userid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class StageMove(Base):
    __tablename__ = "stage_moves"
    __table_args__ = (Index("ix_stage_moves_at", "moved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    moved_by: Mapped[str] = mapped_column(String(64))
    moved_at: Mapped[datetime]


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (Index("ix_quotes_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    amount: Mapped[Decimal]
    note: Mapped[str | None] = mapped_column(String(255))
    requester_userid: Mapped[str] = mapped_column(String(64))
    status: Mapped[QuoteStatus] = mapped_column(
        StrEnumType(QuoteStatus), default=QuoteStatus.PENDING, comment="pending|approved|rejected|withdrawn"
    )
    current_step: Mapped[int] = mapped_column(default=1)
    step_count: Mapped[int] = mapped_column(default=1)
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ApprovalStep(Base):
    __tablename__ = "approval_steps"
    __table_args__ = (
        UniqueConstraint("quote_id", "seq"),
        Index("ix_steps_approver", "approver_userid", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"))
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(String(16))
    approver_userid: Mapped[str] = mapped_column(String(64))
    status: Mapped[StepStatus] = mapped_column(
        StrEnumType(StepStatus),
        default=StepStatus.WAITING,
        comment="waiting|pending|approved|rejected|cancelled",
    )
    task_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    acted_by: Mapped[str | None] = mapped_column(String(64))
    acted_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]


class Delegation(Base):
    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    approver_userid: Mapped[str] = mapped_column(String(64), index=True)
    delegate_userid: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        Index("ix_contracts_signed", "signed_at"),
        Index("ix_contracts_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal]
    signed_at: Mapped[datetime]
    signed_by: Mapped[str] = mapped_column(String(64))


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_received", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal]
    received_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    voucher_no: Mapped[str | None] = mapped_column(
        String(64), unique=True, comment="凭证号 of an ERP receipt"
    )
    source: Mapped[str] = mapped_column(String(8), default="chat", server_default="chat", comment="chat|erp")


class Reminder(Base):
    """A follow-up with a due time; the tick claims due rows (never one scheduler job per reminder)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "notified_at", "due_at"),
        Index(
            "ix_reminders_owner", "owner_userid", "status", "due_at"
        ),  # + due_at: the digest's overdue counts
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_userid: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    title: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime]
    status: Mapped[ReminderStatus] = mapped_column(
        StrEnumType(ReminderStatus), default=ReminderStatus.OPEN, comment="open|done|cancelled"
    )
    source: Mapped[str] = mapped_column(String(16), default="manual", comment="manual|visit|dormant")
    notified_at: Mapped[datetime | None] = mapped_column(comment="set by the claim when the card is sent")
    notified_late: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    snooze_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
