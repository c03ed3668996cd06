"""Records for reminder tests, created directly with the models (independent of the sales handlers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from models import (
    ApprovalStep,
    CardTask,
    Customer,
    Opportunity,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    StepStatus,
    Visit,
)
from services.parsing import normalize_name

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, Friday


def customer(
    session: Session, name: str = "华东精密机械", *, owner: str = "rep_e1", region: str = "华东"
) -> Customer:
    row = Customer(
        name=name,
        name_norm=normalize_name(name),
        region=region,
        owner_userid=owner,
        custom={},
        complete=False,
        created_at=T0,
        updated_at=T0,
    )
    session.add(row)
    session.flush()
    return row


def opportunity(
    session: Session, cust: Customer, *, name: str = "产线改造", priority: str = "C"
) -> Opportunity:
    row = Opportunity(
        customer_id=cust.id,
        name=name,
        stage="初步接洽",
        priority=priority,
        score=0,
        score_items=[],
        owner_userid=cust.owner_userid,
        created_at=T0,
        updated_at=T0,
    )
    session.add(row)
    session.flush()
    return row


def reminder(
    session: Session, cust: Customer | None, *, due_at: datetime, owner: str = "rep_e1", title: str = "回访"
) -> Reminder:
    row = Reminder(
        owner_userid=owner,
        customer_id=cust.id if cust else None,
        title=title,
        due_at=due_at,
        status=ReminderStatus.OPEN,
        source="manual",
        notified_late=False,
        snooze_count=0,
        created_at=T0 - timedelta(days=1),
    )
    session.add(row)
    session.flush()
    return row


def visit_with_card(
    session: Session,
    cust: Customer,
    *,
    userid: str = "rep_e1",
    summary: str = "介绍了新款伺服电机，客户关心交期和售后",
) -> Visit:
    """A visit plus the CardTask its confirmation card would have recorded (task_id visit-<id>)."""
    row = Visit(
        customer_id=cust.id,
        userid=userid,
        summary=summary,
        visited_at=T0,
        photo_count=0,
        location_anomaly=False,
    )
    session.add(row)
    session.flush()
    session.add(
        CardTask(task_id=f"visit-{row.id}", kind="visit", ref_id=row.id, recipient=userid, created_at=T0)
    )
    session.flush()
    return row


def pending_approval(
    session: Session, opp: Opportunity, *, approver: str = "sup_east", amount: str = "80000"
) -> Quote:
    quote = Quote(
        opportunity_id=opp.id,
        amount=Decimal(amount),
        requester_userid=opp.owner_userid,
        status=QuoteStatus.PENDING,
        current_step=1,
        step_count=3,
        created_at=T0,
    )
    session.add(quote)
    session.flush()
    session.add(
        ApprovalStep(
            quote_id=quote.id,
            seq=1,
            role="supervisor",
            approver_userid=approver,
            status=StepStatus.PENDING,
            activated_at=T0,
        )
    )
    session.flush()
    return quote
