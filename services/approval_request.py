"""Requesting a quote approval (`报价`): the opportunity moves to the quote stage, the chain is routed and its
first step's cards go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from chat.replies import Reply
from models import ApprovalStep, Customer, Opportunity, Quote, QuoteStatus, StepStatus, User
from services import audit, stages
from services.approval_cards import activate
from services.approval_routing import RoutedStep, quote_stage_of, route
from services.config import BusinessConfig
from services.parsing import format_amount


@dataclass
class QuoteRequest:
    quote: Quote
    chain: list[RoutedStep]
    notifications: list[Reply]


def request_quote(
    session: Session,
    *,
    config: BusinessConfig,
    requester: User,
    opportunity: Opportunity,
    amount: Decimal,
    note: str | None,
    now: datetime,
) -> QuoteRequest:
    if opportunity.closed_at is not None or opportunity.stage == config.lost_stage:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}），不能申请报价。")
    pending = session.scalar(
        select(Quote)
        .where(Quote.opportunity_id == opportunity.id, Quote.status == QuoteStatus.PENDING)
        .limit(1)
    )
    if pending is not None:
        raise DomainError(
            f"商机「{opportunity.name}」已有一份审批中的报价 #{pending.id}（{format_amount(pending.amount)}）。"
            f"如需修改，先发送：撤回 #{pending.id}"
        )
    chain = route(session, config=config, requester=requester, amount=amount)
    customer = session.get(Customer, opportunity.customer_id)
    stages.move_stage(
        session,
        config=config,
        opportunity=opportunity,
        to_stage=quote_stage_of(config),
        actor=requester.userid,
        now=now,
        via=stages.QUOTE_REQUEST,
        customer_name=customer.name if customer else "",
    )
    quote = Quote(
        opportunity_id=opportunity.id,
        amount=amount,
        note=(note or None) and note[:255],
        requester_userid=requester.userid,
        status=QuoteStatus.PENDING,
        current_step=1,
        step_count=len(chain),
        created_at=now,
    )
    session.add(quote)
    session.flush()
    steps = []
    for seq, routed in enumerate(chain, 1):
        step = ApprovalStep(
            quote_id=quote.id,
            seq=seq,
            role=routed.role,
            approver_userid=routed.approver.userid,
            status=StepStatus.WAITING,
        )
        session.add(step)
        steps.append(step)
        if routed.routed_past_requester:
            audit.record(
                session,
                actor=requester.userid,
                entity="quote",
                entity_id=quote.id,
                action="route",
                now=now,
                detail=f"routed past requester: step {seq} ({routed.role}) → {routed.approver.userid}",
            )
    session.flush()
    audit.record(
        session,
        actor=requester.userid,
        entity="quote",
        entity_id=quote.id,
        action="request",
        now=now,
        changes={
            "amount": amount,
            "opportunity_id": opportunity.id,
            "chain": [s.approver.userid for s in chain],
        },
    )
    notes = activate(session, quote=quote, step=steps[0], now=now)
    return QuoteRequest(quote=quote, chain=chain, notifications=notes)
