"""A write proposed from free text: shown on a card, carried out only when its sender taps 确认."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType


class ProposalStatus(StrEnum):
    """`proposals.status`: pending until tapped or expired; moves once."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EDITED = "edited"
    FAILED = "failed"
    EXPIRED = "expired"  # superseded by a newer proposal of the same command on the same record


class Proposal(Base):
    """What the bot understood and will record after 确认: the exact command it will run, nothing else.

    `command`/`args` are the same command line a user could type (records referenced by `#id`), so 确认
    goes through the command's own handler and rules. `status` moves once, by a conditional UPDATE, from
    `pending` to `confirmed`, `cancelled`, `edited`, `failed` or `expired`: a second tap finds it decided.
    """

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_user", "userid", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(String(16))
    args: Mapped[str] = mapped_column(Text)
    followup_args: Mapped[str | None] = mapped_column(Text, comment="a 跟进 offered on the same card")
    view: Mapped[dict[str, Any]] = mapped_column(comment="what the card says (cards.proposal.ProposalView)")
    source_text: Mapped[str] = mapped_column(Text, comment="the message as typed")
    status: Mapped[ProposalStatus] = mapped_column(
        StrEnumType(ProposalStatus),
        default=ProposalStatus.PENDING,
        comment="pending|confirmed|cancelled|edited|failed",
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
