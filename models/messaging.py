"""Plumbing state: inbound dedup keys, the outbox, dialogs, card tasks, pending media, job occurrences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType


class InboundStatus(StrEnum):
    """`inbound_events.status`: received by the request path, done once handled."""

    RECEIVED = "received"
    DONE = "done"


class OutboxStatus(StrEnum):
    """`outbox.status`: pending, claimed (sending, under a lease), then sent, failed (permanent) or dead (retries spent)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class InboundEvent(Base):
    """One row per accepted callback; the unique key is what makes WeCom's retries harmless.

    The request path only inserts the row (status 'received') and answers 200; a worker then claims it and
    runs the handler, writing the effects and the replies in one transaction that also marks it 'done'.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        Index("ix_inbound_pending", "status", "id"),
        # The claim's per-user-order probe (bot/inbox.py): only rows still waiting are indexed.
        Index(
            "ix_inbound_received_user",
            "userid",
            "id",
            postgresql_where=text(f"status = '{InboundStatus.RECEIVED.value}'"),
            sqlite_where=text(f"status = '{InboundStatus.RECEIVED.value}'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(512), unique=True)
    userid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime]
    status: Mapped[InboundStatus] = mapped_column(
        StrEnumType(InboundStatus), default=InboundStatus.RECEIVED, comment="received|done"
    )
    payload: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="the decrypted message (bot.inbound.Inbound)"
    )
    processed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the effect that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(512), unique=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), comment="text|markdown|card|update_card|image")
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumType(OutboxStatus), default=OutboxStatus.PENDING, comment="pending|sending|sent|failed|dead"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_errcode: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(255))
    response_code: Mapped[str | None] = mapped_column(String(255), comment="from a card send, usable once")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Dialog(Base):
    """A multi-step conversation in progress; a row so that it survives a restart."""

    __tablename__ = "dialogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime]


class CardTask(Base):
    """The server's record of what a card's task_id refers to and who it was sent to."""

    __tablename__ = "card_tasks"

    task_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int]
    recipient: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    handled_at: Mapped[datetime | None] = mapped_column(
        comment="a one-shot card's first tap (已协助); null while open"
    )


class PendingMedia(Base):
    """A location or photo sent on its own, kept for the sender's next 拜访 (30 minutes)."""

    __tablename__ = "pending_media"
    __table_args__ = (Index("ix_pending_media_user", "userid", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), comment="location|image")
    media_id: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime]
    visit_id: Mapped[int | None]


class JobOccurrence(Base):
    """Marks one scheduled occurrence (job, key) done, so replicas and reruns never repeat it."""

    __tablename__ = "job_occurrences"
    __table_args__ = (UniqueConstraint("job", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    occurrence: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which record, and denied attempts too."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    changes: Mapped[dict[str, Any]]
    detail: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime]
