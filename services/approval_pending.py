"""The approvals waiting on someone: their own steps and those of approvers who delegated to them now (never
their own quotes). The one rule 待办, 我的待审批 and the answers read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApprovalStep, Customer, Opportunity, Quote, QuoteStatus, StepStatus


@dataclass(frozen=True)
class PendingApproval:
    step_id: int
    quote_id: int
    seq: int
    steps: int
    approver_userid: str
    on_behalf_of: str | None  # set when the user would act as a delegate
    customer: str
    opportunity: str
    amount: Decimal
    requester_userid: str
    waiting_since: datetime


def pending_for(session: Session, *, userid: str, now: datetime) -> list[PendingApproval]:
    """Steps waiting on `userid` (also as an active delegate, never on their own quotes), oldest first."""
    from services.delegation import approvers_delegating_to

    userid = userid.lower()
    approvers = [userid, *approvers_delegating_to(session, delegate_userid=userid, now=now)]
    rows = session.execute(
        select(ApprovalStep, Quote, Opportunity, Customer)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            ApprovalStep.status == StepStatus.PENDING,
            Quote.status == QuoteStatus.PENDING,
            ApprovalStep.approver_userid.in_(approvers),
            Quote.requester_userid != userid,
        )
        .order_by(ApprovalStep.activated_at, ApprovalStep.id)
    ).all()
    return [
        PendingApproval(
            step_id=step.id,
            quote_id=quote.id,
            seq=step.seq,
            steps=quote.step_count,
            approver_userid=step.approver_userid,
            on_behalf_of=None if step.approver_userid == userid else step.approver_userid,
            customer=customer.name,
            opportunity=opp.name,
            amount=quote.amount,
            requester_userid=quote.requester_userid,
            waiting_since=step.activated_at or quote.created_at,
        )
        for step, quote, opp, customer in rows
    ]
