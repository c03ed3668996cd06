"""Test data for the digest, segments and indicators, built directly with the models."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models import (
    ApprovalStep,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    StageMove,
    StepStatus,
    Visit,
)

SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def customer(
    s: Session,
    name: str,
    *,
    owner: str,
    region: str,
    complete: bool = True,
    segment: str | None = None,
    segment_since: date | None = None,
    created: datetime | None = None,
) -> Customer:
    when = created or at(2026, 1, 1)
    row = Customer(
        name=name,
        name_norm=name,
        region=region,
        industry="机械" if complete else None,
        contact="王经理",
        phone=f"1380000{next(_seq):04d}",
        address="工业园" if complete else None,
        custom={},
        owner_userid=owner,
        segment=segment,
        segment_since=segment_since,
        complete=complete,
        created_at=when,
        updated_at=when,
    )
    s.add(row)
    s.flush()
    return row


def visit(s: Session, cust: Customer, *, userid: str, when: datetime) -> Visit:
    row = Visit(customer_id=cust.id, userid=userid, summary="拜访", visited_at=when)
    s.add(row)
    s.flush()
    return row


def opportunity(
    s: Session,
    cust: Customer,
    *,
    name: str,
    stage: str = "线索分配",
    amount: int | None = 100000,
    created: datetime | None = None,
) -> Opportunity:
    when = created or at(2026, 11, 1)
    row = Opportunity(
        customer_id=cust.id,
        name=name,
        stage=stage,
        amount=Decimal(amount) if amount is not None else None,
        owner_userid=cust.owner_userid,
        score_items=[],
        created_at=when,
        updated_at=when,
    )
    s.add(row)
    s.flush()
    return row


def stage_move(s: Session, opp: Opportunity, *, to: str, when: datetime, frm: str | None = None) -> None:
    s.add(
        StageMove(
            opportunity_id=opp.id, from_stage=frm, to_stage=to, moved_by=opp.owner_userid, moved_at=when
        )
    )
    s.flush()


def quote(
    s: Session,
    opp: Opportunity,
    *,
    amount: int = 30000,
    status: QuoteStatus = QuoteStatus.PENDING,
    created: datetime,
    decided: datetime | None = None,
) -> Quote:
    row = Quote(
        opportunity_id=opp.id,
        amount=Decimal(amount),
        requester_userid=opp.owner_userid,
        status=status,
        created_at=created,
        decided_at=decided,
    )
    s.add(row)
    s.flush()
    return row


def step(
    s: Session,
    q: Quote,
    *,
    seq: int = 1,
    approver: str = "sup_east",
    status: StepStatus = StepStatus.PENDING,
    activated: datetime | None = None,
    acted: datetime | None = None,
) -> ApprovalStep:
    row = ApprovalStep(
        quote_id=q.id,
        seq=seq,
        role="supervisor",
        approver_userid=approver,
        status=status,
        activated_at=activated,
        acted_at=acted,
    )
    s.add(row)
    s.flush()
    return row


def contract(
    s: Session,
    cust: Customer,
    *,
    amount: int,
    signed: datetime,
    opp: Opportunity | None = None,
    by: str | None = None,
) -> Contract:
    row = Contract(
        opportunity_id=opp.id if opp else None,
        customer_id=cust.id,
        amount=Decimal(amount),
        signed_at=signed,
        signed_by=by or cust.owner_userid,
    )
    s.add(row)
    s.flush()
    return row


def payment(s: Session, cust: Customer, *, amount: int, when: datetime) -> Payment:
    row = Payment(
        customer_id=cust.id, amount=Decimal(amount), received_at=when, recorded_by=cust.owner_userid
    )
    s.add(row)
    s.flush()
    return row


def reminder(
    s: Session,
    *,
    owner: str,
    due: datetime,
    title: str = "回访",
    cust: Customer | None = None,
    status: ReminderStatus = ReminderStatus.OPEN,
    completed: datetime | None = None,
) -> Reminder:
    row = Reminder(
        owner_userid=owner,
        customer_id=cust.id if cust else None,
        title=title,
        due_at=due,
        status=status,
        source="manual",
        completed_at=completed,
        notified_late=False,
        snooze_count=0,
        created_at=due,
    )
    s.add(row)
    s.flush()
    return row
