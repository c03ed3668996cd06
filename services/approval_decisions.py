"""Approving and rejecting a quote step (a card tap, or `同意 #12` / `驳回 #12 理由` by text).

Exactly one transition per step: the tap is authorised (services/approval_taps.py), the step is claimed by a
conditional UPDATE, the other cards of the step are greyed and the next step is activated, or the requester is
told the outcome. A 驳回 asks for its reason first (the `RejectReason` dialog).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.replies import Card, Reply, Text, UpdateCard
from models import ApprovalStep, Opportunity, QuoteStatus, StepStatus, User
from services import audit, cardtasks
from services.approval_cards import activate, card_info, name_of, steps_summary, update_cards
from services.approval_taps import authorise, claim_step, stale
from services.approval_withdrawal import cancel_waiting, move_back
from services.config import BusinessConfig


def approve(
    session: Session,
    *,
    config: BusinessConfig,
    actor: User,
    task_id: str | None,
    response_code: str | None,
    now: datetime,
) -> list[Reply]:
    target = authorise(session, actor=actor, task_id=task_id, action="approve", now=now)
    if isinstance(target, list):
        return target
    step, quote = target.step, target.quote
    if quote.status != QuoteStatus.PENDING or step.status != StepStatus.PENDING:
        return stale(
            session, target=target, actor=actor, action="approve", response_code=response_code, now=now
        )
    if not claim_step(session, step=step, status=StepStatus.APPROVED, actor=actor.userid, now=now):
        session.refresh(step)
        return stale(
            session, target=target, actor=actor, action="approve", response_code=response_code, now=now
        )
    behalf = f"on behalf of {target.on_behalf_of}" if target.on_behalf_of else None
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=step.id,
        action="approve",
        now=now,
        changes={"status": [QuoteStatus.PENDING, QuoteStatus.APPROVED]},
        detail=behalf,
        task_id=target.task.task_id,
    )
    info = card_info(session, quote=quote, step=step)
    out: list[Reply] = []
    confirm = f"已同意报价 #{quote.id}（{info.customer} {info.amount}）。"
    if response_code:
        out.append(
            UpdateCard(
                cards.decided_card(info, task_id=target.task.task_id, outcome=cards.OUTCOME_APPROVED),
                response_code,
                fallback_text=confirm,
            )
        )
    else:
        out.append(Text(confirm))
    skip = (
        target.task.task_id if response_code else None
    )  # by text (同意 #12): the actor's own card updates too
    out += update_cards(
        session, quote=quote, step=step, outcome=cards.OUTCOME_APPROVED, skip_task=skip, fallback=None
    )
    if step.seq < quote.step_count:
        nxt = session.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote.id, ApprovalStep.seq == step.seq + 1)
        ).one()
        quote.current_step = nxt.seq
        out += activate(session, quote=quote, step=nxt, now=now)
        # No message to the requester for an intermediate step: one at the end says how every step went
        # (the approvals job tells them earlier only when a step waits past the re-announce time).
        return out
    quote.status, quote.decided_at = QuoteStatus.APPROVED, now
    audit.record(
        session,
        actor=actor.userid,
        entity="quote",
        entity_id=quote.id,
        action="approved",
        now=now,
        changes={"status": [QuoteStatus.PENDING, QuoteStatus.APPROVED]},
    )
    opp = session.get(Opportunity, quote.opportunity_id)
    if opp is not None and opp.amount != quote.amount:  # the opportunity is worth what was approved
        audit.record(
            session,
            actor=actor.userid,
            entity="opportunity",
            entity_id=opp.id,
            action="amount",
            now=now,
            changes={"amount": [opp.amount, quote.amount]},
            detail=f"approved quote #{quote.id}",
        )
        opp.amount = quote.amount
    out.append(
        Text(
            f"🎉 报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）已审批通过。\n"
            f"{steps_summary(session, quote=quote)}\n"
            f"签约后发送：合同 {opp.name if opp else '商机'} 金额",
            to=quote.requester_userid,
        )
    )
    return out


class RejectReason(StrEnum):
    """The 驳回 dialog: a reject tap waits for its reason."""

    ASKING = "quote.reject_reason"


@dataclass
class RejectData:
    task_id: str = ""  # the tapped card's task: authorised again when the reason arrives
    response_code: str | None = None  # that tap's own code, to update the card
    step_id: int | None = None
    quote_id: int | None = None  # named when a new command leaves the dialog


def start_reject(
    session: Session,
    *,
    config: BusinessConfig,
    actor: User,
    task_id: str | None,
    response_code: str | None,
    now: datetime,
) -> tuple[list[Reply], RejectData | None]:
    """Authorise a 驳回 tap; returns (replies, dialog data) — the step changes only when the reason arrives."""
    target = authorise(session, actor=actor, task_id=task_id, action="reject", now=now)
    if isinstance(target, list):
        return target, None
    if target.quote.status != QuoteStatus.PENDING or target.step.status != StepStatus.PENDING:
        return stale(
            session, target=target, actor=actor, action="reject", response_code=response_code, now=now
        ), None
    info = card_info(session, quote=target.quote, step=target.step)
    data = RejectData(
        task_id=target.task.task_id,
        response_code=response_code,
        step_id=target.step.id,
        quote_id=target.quote.id,
    )
    text = (
        f"请回复驳回报价 #{target.quote.id}（{info.customer} {info.amount}）的理由，一句话即可，会转告{info.requester}。"
        "发送「取消」则不驳回。"
    )
    return [Text(text)], data


def finish_reject(
    session: Session, *, config: BusinessConfig, actor: User, data: RejectData, reason: str, now: datetime
) -> list[Reply]:
    reason = reason.strip()[:255]
    if not reason:
        return [Text("请写一句驳回理由，例如：价格低于成本线。发送「取消」则不驳回。")]
    task_id, response_code = data.task_id, data.response_code or None
    target = authorise(session, actor=actor, task_id=task_id, action="reject", now=now)
    if isinstance(target, list):
        return target
    step, quote = target.step, target.quote
    if (
        quote.status != QuoteStatus.PENDING
        or step.status != StepStatus.PENDING
        or not claim_step(session, step=step, status=StepStatus.REJECTED, actor=actor.userid, now=now)
    ):
        session.refresh(step)
        return stale(
            session, target=target, actor=actor, action="reject", response_code=response_code, now=now
        )
    behalf = f"on behalf of {target.on_behalf_of}" if target.on_behalf_of else None
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=step.id,
        action="reject",
        now=now,
        changes={"status": [QuoteStatus.PENDING, QuoteStatus.REJECTED], "reason": reason},
        detail=behalf,
        task_id=task_id,
    )
    quote.status, quote.decided_at, quote.reject_reason = QuoteStatus.REJECTED, now, reason
    cancel_waiting(session, quote=quote)
    info = card_info(session, quote=quote, step=step)
    moved = move_back(session, config=config, quote=quote, actor=actor.userid, now=now)
    who = actor.name + (f"（代{name_of(session, target.on_behalf_of)}）" if target.on_behalf_of else "")
    confirm = f"已驳回报价 #{quote.id}（{info.customer} {info.amount}），理由已转告{info.requester}。"
    out: list[Reply] = []
    if response_code:
        out.append(
            UpdateCard(
                cards.decided_card(info, task_id=task_id, outcome=cards.OUTCOME_REJECTED),
                response_code,
                fallback_text=confirm,
            )
        )
    out.append(Text(confirm))
    skip = task_id if response_code else None  # by text (驳回 #12 理由): the actor's own card updates too
    out += update_cards(
        session, quote=quote, step=step, outcome=cards.OUTCOME_REJECTED, skip_task=skip, fallback=None
    )
    requote_task = cards.requote_task_id(quote.id)
    cardtasks.issue(
        session,
        task_id=requote_task,
        kind=cardtasks.CardKind.REQUOTE,
        ref_id=quote.id,
        recipient=quote.requester_userid,
        now=now,
    )
    text = (
        f"报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）被{who}驳回。\n理由：{reason}\n"
        + (f"商机已回到「{moved}」。" if moved else "")
        + steps_summary(session, quote=quote)
    )
    out.append(Card(cards.rejected_card(text, task_id=requote_task), to=quote.requester_userid))
    return out
