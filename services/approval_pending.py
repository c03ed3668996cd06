"""The approvals waiting on someone: their own steps and those of approvers who delegated to them now (never
their own quotes, and as a delegate only the steps they may act on: services/approval_rules.py). The one rule
待办 (services/todo.py) and the answers (我的待审批, 等我审批的报价) read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApprovalStep, Customer, Opportunity, Quote, QuoteStatus, StepStatus
from services.approval_rules import may_act_as_delegate, user_of


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
    priority: str | None = None  # the opportunity's A/B/C once it has been scored (None before)


def pending_for(session: Session, *, userid: str, now: datetime) -> list[PendingApproval]:
    """Steps waiting on `userid` (also as an active delegate, never on their own quotes), oldest first."""
    from services.delegation import approvers_delegating_to

    userid = userid.lower()
    delegating = approvers_delegating_to(session, delegate_userid=userid, now=now)
    approvers = [userid, *delegating]
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
    delegate = user_of(session, userid) if delegating else None

    def may_act(step: ApprovalStep, quote: Quote) -> bool:
        """Their own step, or as a delegate one they could approve themselves (they got no card otherwise)."""
        if step.approver_userid == userid:
            return True
        return delegate is not None and may_act_as_delegate(
            session, delegate=delegate, step=step, quote=quote
        )

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
            priority=opp.priority if (opp.score or opp.score_items) else None,
        )
        for step, quote, opp, customer in rows
        if may_act(step, quote)
    ]
