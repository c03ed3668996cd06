"""Authorising a tap on an approval card, and answering a tap that came too late.

A tap is authorised from the card's task_id (CardTask → ApprovalStep) and the decrypted sender, never from the
button key; authority is re-checked against the org chart at the moment of the tap (services/approval_rules.py).
Every state change of a step is a conditional UPDATE ... WHERE status='pending' whose rowcount decides the
single winner (`claim_step`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.replies import Reply, Text, UpdateCard
from models import ApprovalStep, CardTask, Quote, QuoteStatus, StepStatus, User
from models.db import affected
from services import approval_rules, audit, cardtasks
from services.approval_cards import CARD_KIND, card_info
from services.delegation import active_delegation

OWN_QUOTE = "不能审批自己提交的报价（审批与申请须由不同的人完成），没有做任何更改。"

# One answer for a card that does not exist, is not the sender's, or that the sender may no longer act on:
# a forged TaskId learns nothing about which ids exist (issue 16 #12).
UNKNOWN_CARD = "这张卡片已失效或不属于您，没有做任何更改。"
NOT_YOURS = UNKNOWN_CARD


def lock_quote(session: Session, quote_id: int) -> Quote | None:
    query = select(Quote).where(Quote.id == quote_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def outcome_label(quote: Quote, step: ApprovalStep) -> str:
    if step.status == StepStatus.APPROVED:
        return cards.OUTCOME_APPROVED
    if step.status == StepStatus.REJECTED:
        return cards.OUTCOME_REJECTED
    if quote.status == QuoteStatus.WITHDRAWN:
        return cards.OUTCOME_WITHDRAWN
    if quote.status == QuoteStatus.REJECTED:
        return cards.OUTCOME_REJECTED
    return cards.OUTCOME_DONE


@dataclass
class TapTarget:
    task: CardTask
    step: ApprovalStep
    quote: Quote
    on_behalf_of: str | None


def authorise(
    session: Session, *, actor: User, task_id: str | None, action: str, now: datetime
) -> TapTarget | list[Reply]:
    """The step this tap may act on, or the refusal replies (audited)."""
    found = cardtasks.authorise(
        session,
        actor=actor,
        task_id=task_id,
        kind=CARD_KIND,
        action=action,
        now=now,
        unknown_text=UNKNOWN_CARD,
        recipient_only=False,
    )
    if isinstance(found, list):
        return found
    task = found

    def deny(reason: str, entity_id: int | None) -> list[Reply]:
        return cardtasks.deny(
            session,
            actor=actor,
            kind=CARD_KIND,
            task_id=task_id,
            action=action,
            reason=reason,
            entity_id=entity_id,
            now=now,
        )

    step = session.get(ApprovalStep, task.ref_id)
    quote = lock_quote(session, step.quote_id) if step else None
    if step is None or quote is None:
        return [Text(UNKNOWN_CARD), *deny("no such step", task.ref_id)]
    session.refresh(step)
    if actor.userid == quote.requester_userid:
        return [Text(OWN_QUOTE), *deny("requester tapped own quote", step.id)]
    # Authority is re-checked against the org chart at the moment of the tap (issue 16 #2, #4).
    if actor.userid == step.approver_userid:
        if approval_rules.may_approve(session, user=actor, step=step, quote=quote):
            return TapTarget(task, step, quote, None)
        return [Text(NOT_YOURS), *deny(f"no longer holds the {step.role} role", step.id)]
    if active_delegation(
        session, approver_userid=step.approver_userid, delegate_userid=actor.userid, now=now
    ) and approval_rules.may_act_as_delegate(session, delegate=actor, step=step, quote=quote):
        return TapTarget(task, step, quote, step.approver_userid)
    return [Text(NOT_YOURS), *deny(f"not the approver ({step.approver_userid})", step.id)]


def stale(
    session: Session, *, target: TapTarget, actor: User, action: str, response_code: str | None, now: datetime
) -> list[Reply]:
    label = outcome_label(target.quote, target.step)
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=target.step.id,
        action=action,
        outcome="stale",
        detail=f"step {target.step.status}, quote {target.quote.status}",
        task_id=target.task.task_id,
        now=now,
    )
    text = f"这条审批已处理（{label}），无需再操作，没有做任何更改。"
    if not response_code:
        return [Text(text)]
    card = cards.decided_card(
        card_info(session, quote=target.quote, step=target.step), task_id=target.task.task_id, outcome=label
    )
    return [UpdateCard(card, response_code, fallback_text=text)]


def claim_step(
    session: Session, *, step: ApprovalStep, status: StepStatus, actor: str, now: datetime
) -> bool:
    result = session.execute(
        update(ApprovalStep)
        .where(ApprovalStep.id == step.id, ApprovalStep.status == StepStatus.PENDING)
        .values(status=status, acted_by=actor, acted_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        return False
    session.refresh(step)
    return True


def task_for_text(session: Session, *, actor: User, quote_id: int, now: datetime) -> str | None:
    """`同意 #12` / `驳回 #12 理由`: the approval card of quote 12's pending step that was sent to `actor`, else
    that step's own card when `actor` is its approver, an active delegate of the approver or the requester;
    `approve`/`finish_reject` then authorise it exactly as a tap on that card.

    None when the quote does not exist, has no pending step, or that step is not the actor's to act on: one
    answer for all three, so a typed number learns nothing about quotes outside the sender's reach
    (product.md «Data visibility»)."""
    step = session.scalar(
        select(ApprovalStep)
        .where(ApprovalStep.quote_id == quote_id, ApprovalStep.status == StepStatus.PENDING)
        .limit(1)
    )
    if step is None:
        return None
    tasks = session.scalars(
        select(CardTask)
        .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id)
        .order_by(CardTask.created_at)
    ).all()
    mine = next((t for t in tasks if t.recipient == actor.userid), None)
    if mine is not None:
        return mine.task_id
    quote = session.get(Quote, quote_id)
    involved = (
        actor.userid == step.approver_userid
        or (quote is not None and actor.userid == quote.requester_userid)
        or active_delegation(
            session, approver_userid=step.approver_userid, delegate_userid=actor.userid, now=now
        )
    )
    if not involved:
        return None
    return tasks[0].task_id if tasks else step.task_id
