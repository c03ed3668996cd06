"""The push ledger: one row per event the bot pushed (or held back) on its own initiative."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType


class PushStatus(StrEnum):
    """`pushes.status`: sent alone, folded into another message, held for 待办, then released."""

    SENT = "sent"
    FOLDED = "folded"
    HELD = "held"
    RELEASED = "released"
    PART = "part"  # a further part of a message of several (its slot counts; services/pushes._take_parts)


class Push(Base):
    """An event for one person: sent alone, folded into another message, or held for the next 待办.

    The unique (recipient, day, slot) is the daily budget: a message takes the next free slot with an
    insert that conflicts when another replica took it first, so the budget holds across replicas without
    a lock. `dedup_key` makes an event count once however often its cause is retried.
    """

    __tablename__ = "pushes"
    __table_args__ = (
        UniqueConstraint("recipient", "day", "slot"),
        Index("ix_pushes_recipient_status", "recipient", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(512), unique=True)
    recipient: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(comment="the recipient's local (Asia/Shanghai) day")
    slot: Mapped[int | None] = mapped_column(
        comment="1..budget when this row's message used the day's budget"
    )
    kind: Mapped[str] = mapped_column(
        String(32), comment="approval|reminder|escalation|progress|digest|todo|notice"
    )
    priority: Mapped[int] = mapped_column(
        comment="1 approval waiting > 2 overdue follow-up > 3 progress news"
    )
    status: Mapped[PushStatus] = mapped_column(StrEnumType(PushStatus), comment="sent|folded|held|released")
    line: Mapped[str] = mapped_column(Text, comment="the event in one line, for folded messages and 待办")
    payload: Mapped[dict[str, Any]] = mapped_column(
        comment="{'rows': [[kind, payload], ...]} of the event's own message"
    )
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
