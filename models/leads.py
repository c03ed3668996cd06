"""Leads (线索) and the customer pool (公海): the lead itself, pool events and extension requests.

A pool customer is a `Customer` whose `owner_userid` is `POOL_OWNER` (nobody) and whose `pooled_at` is set;
its visits and opportunities stay attached to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType

POOL_OWNER = ""  # owner_userid of a customer in the pool: nobody's


class LeadStatus(StrEnum):
    """`leads.status`: a lead is open while assigned; accepted (接单) or invalid close it."""

    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    INVALID = "invalid"


class ExtensionStatus(StrEnum):
    """`pool_extensions.status`: 申请延期 pending on the supervisor, then decided."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Lead(Base):
    """A company with a contact, not yet a customer. Open while `status` is 'assigned'."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("source", "client_key", name="uq_leads_source_client_key"),
        Index("ix_leads_status_assigned", "status", "assigned_at"),
        Index("ix_leads_assignee", "assignee_userid", "status"),
        Index("ix_leads_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(128))
    company_key: Mapped[str] = mapped_column(
        String(128), index=True, comment="name without legal form and place prefix"
    )
    contact: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_norm: Mapped[str | None] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[LeadStatus] = mapped_column(
        StrEnumType(LeadStatus), default=LeadStatus.ASSIGNED, comment="assigned|accepted|invalid"
    )
    assignee_userid: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None]
    assign_count: Mapped[int] = mapped_column(
        default=0, comment="1 for the first assignment; +1 per re-assignment"
    )
    reminded_at: Mapped[datetime | None] = mapped_column(
        comment="the SLA reminder for the current assignment"
    )
    supervisor_told_at: Mapped[datetime | None]
    transfer_to: Mapped[str | None] = mapped_column(
        String(64), comment="转派 asked for, waiting on the supervisor"
    )
    created_by: Mapped[str] = mapped_column(String(64), comment="a userid, or 'api:<source>' / 'import'")
    client_key: Mapped[str | None] = mapped_column(String(128), comment="the API client's idempotency key")
    customer_id: Mapped[int | None] = mapped_column(comment="the customer 接单 made")
    opportunity_id: Mapped[int | None]
    invalid_reason: Mapped[str | None] = mapped_column(String(255))
    accepted_at: Mapped[datetime | None]
    first_contact_at: Mapped[datetime | None] = mapped_column(comment="the first visit after 接单")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PoolEvent(Base):
    """What happened to a customer in the pool: release | claim | assign | return | extend."""

    __tablename__ = "pool_events"
    __table_args__ = (
        Index("ix_pool_events_user_kind_at", "userid", "kind", "at"),
        Index("ix_pool_events_customer", "customer_id", "at"),
        Index("ix_pool_events_region_at", "region", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    userid: Mapped[str] = mapped_column(
        String(64), comment="the owner released from, or the claimer / new owner"
    )
    actor: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime]


class PoolExtension(Base):
    """申请延期: the owner asks the supervisor for 7 more days before a customer goes to the pool."""

    __tablename__ = "pool_extensions"
    __table_args__ = (Index("ix_pool_ext_customer", "customer_id", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int]
    requester_userid: Mapped[str] = mapped_column(String(64))
    approver_userid: Mapped[str] = mapped_column(String(64))
    status: Mapped[ExtensionStatus] = mapped_column(
        StrEnumType(ExtensionStatus), default=ExtensionStatus.PENDING, comment="pending|approved|rejected"
    )
    days: Mapped[int] = mapped_column(default=7)
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
