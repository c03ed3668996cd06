"""After the contract: payment plans (instalments), delivery milestones and invoices.

What an instalment has received or has been invoiced is not stored: the contract's payments and invoices
are allocated to its instalments in order (services/plans.allocate), so a payment always lands on the oldest
open instalment and a partial payment spills over into the next one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("contract_id", "seq"), Index("ix_instalments_due", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    seq: Mapped[int] = mapped_column(comment="1, 2, ... in the order they fall due")
    amount: Mapped[Decimal]
    percent: Mapped[Decimal | None] = mapped_column(comment="as written, when the plan was given in percent")
    event: Mapped[str] = mapped_column(String(8), comment="date|签约|发货|安装|验收")
    offset_days: Mapped[int] = mapped_column(
        default=0, comment="calendar days after the event (negative: before)"
    )
    fixed_on: Mapped[date | None] = mapped_column(comment="the due date when the rule is a date")
    due_on: Mapped[date | None] = mapped_column(comment="known once the event has happened")
    promised_on: Mapped[date | None] = mapped_column(comment="客户承诺: the ladder pauses until this day")
    created_at: Mapped[datetime]


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("contract_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    kind: Mapped[str] = mapped_column(String(8), comment="发货|安装|验收")
    planned_on: Mapped[date | None]
    reached_on: Mapped[date | None]
    reminder_id: Mapped[int | None] = mapped_column(comment="the owner's follow-up on the planned day")
    recorded_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    amount: Mapped[Decimal]
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    invoiced_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
