"""Withdrawing a quote (`撤回`), and what a withdrawn or rejected quote undoes: its open steps are cancelled and
the opportunity goes back to the stage it was in when the quote was requested.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.errors import DomainError
from chat.replies import Reply, Text
from models import ApprovalStep, Opportunity, Quote, QuoteStatus, StageMove, StepStatus, User
from models.db import affected
from services import audit, stages
from services.approval_cards import card_info, update_cards
from services.approval_routing import quote_stage_of
from services.approval_taps import lock_quote
from services.config import BusinessConfig
from services.parsing import format_amount


def _back_stage(config: BusinessConfig) -> str | None:
    stages_ = list(config.stages)
    quote_stage = quote_stage_of(config)
    if quote_stage in stages_ and stages_.index(quote_stage) > 0:
        return stages_[stages_.index(quote_stage) - 1]
    return None


def cancel_waiting(session: Session, *, quote: Quote) -> None:
    session.execute(
        update(ApprovalStep)
        .where(
            ApprovalStep.quote_id == quote.id,
            ApprovalStep.status.in_((StepStatus.WAITING, StepStatus.PENDING)),
        )
        .values(status=StepStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


def move_back(
    session: Session,
    *,
    config: BusinessConfig,
    quote: Quote,
    actor: str,
    now: datetime,
    via: str = stages.QUOTE_REJECTED,
) -> str | None:
    """Opportunity back from the quote stage to where it was when the quote was requested (issue 16: never to a
    stage it did not reach); a gate that refuses leaves it where it is (audited by move_stage)."""
    opp = session.get(Opportunity, quote.opportunity_id)
    quote_stage = quote_stage_of(config)
    entered = session.scalar(
        select(StageMove.from_stage)
        .where(
            StageMove.opportunity_id == quote.opportunity_id,
            StageMove.to_stage == quote_stage,
            StageMove.moved_at <= quote.created_at,
        )
        .order_by(StageMove.moved_at.desc(), StageMove.id.desc())
        .limit(1)
    )
    back = entered if entered in config.stages and entered != quote_stage else _back_stage(config)
    if opp is None or back is None or opp.stage != quote_stage:
        return None
    try:
        with session.begin_nested():
            stages.move_stage(
                session, config=config, opportunity=opp, to_stage=back, actor=actor, now=now, via=via
            )
    except DomainError:
        return None
    return back


def find_own_pending(session: Session, *, requester: User, keyword: str) -> Quote:
    from services.lookup import resolve_opportunity

    key = keyword.strip().lstrip("#＃")
    if key.isdigit():  # 撤回 takes a quote number: #N is the quote, never an opportunity called "#N"
        quote = session.scalar(
            select(Quote).where(Quote.id == int(key), Quote.requester_userid == requester.userid)
        )
        if quote is None:  # another's quote reads like a missing one: nothing about it is shown
            raise DomainError(
                f"没有找到您提交的报价 #{key}。发送「待办」可以看到您正在审批的报价，例如：撤回 #12"
            )
        return quote
    opp = resolve_opportunity(session, user=requester, keyword=keyword)
    quote = session.scalar(
        select(Quote)
        .where(Quote.opportunity_id == opp.id, Quote.requester_userid == requester.userid)
        .order_by(Quote.id.desc())
        .limit(1)
    )
    if quote is None:
        raise DomainError(f"商机「{opp.name}」没有您提交的报价。")
    return quote


def withdraw(
    session: Session, *, config: BusinessConfig, requester: User, quote: Quote, now: datetime
) -> list[Reply]:
    locked = lock_quote(session, quote.id)
    if locked is None or locked.requester_userid != requester.userid:
        raise DomainError("只能撤回您自己提交的报价。")
    quote = locked
    if quote.status != QuoteStatus.PENDING:
        label = {
            QuoteStatus.APPROVED: "已审批通过",
            QuoteStatus.REJECTED: "已被驳回",
            QuoteStatus.WITHDRAWN: "已撤回",
        }.get(quote.status, quote.status)
        raise DomainError(f"报价 #{quote.id} {label}，不能撤回。")
    result = session.execute(
        update(Quote)
        .where(Quote.id == quote.id, Quote.status == QuoteStatus.PENDING)
        .values(status=QuoteStatus.WITHDRAWN, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        raise DomainError(f"报价 #{quote.id} 刚刚已被处理，不能撤回。")
    session.refresh(quote)
    pending = list(
        session.scalars(
            select(ApprovalStep).where(
                ApprovalStep.quote_id == quote.id, ApprovalStep.status == StepStatus.PENDING
            )
        )
    )
    cancel_waiting(session, quote=quote)
    audit.record(
        session,
        actor=requester.userid,
        entity="quote",
        entity_id=quote.id,
        action="withdraw",
        now=now,
        changes={"status": [QuoteStatus.PENDING, QuoteStatus.WITHDRAWN]},
    )
    out: list[Reply] = []
    for step in pending:
        session.refresh(step)
        info = card_info(session, quote=quote, step=step)
        out += update_cards(
            session,
            quote=quote,
            step=step,
            outcome=cards.OUTCOME_WITHDRAWN,
            skip_task=None,
            fallback=f"{info.requester}已撤回报价 #{quote.id}（{info.customer} {info.amount}），无需再审批。",
        )
    moved = move_back(
        session, config=config, quote=quote, actor=requester.userid, now=now, via=stages.QUOTE_WITHDRAWN
    )
    out.insert(
        0,
        Text(
            f"已撤回报价 #{quote.id}（{format_amount(quote.amount)}）。"
            + (f"商机已回到「{moved}」。" if moved else "")
        ),
    )
    return out
