"""What an approval step sends: its card to the approver and to their active delegates, the greyed cards after a
decision, and the one-line summary of how each step went.

A card is only a view of the step; each sent card is recorded as a card task (services/cardtasks.py) so a tap
can be authorised from it. Notifications are returned as `chat.replies` objects with `to=` set; the caller
writes them to the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.outbox import card_send_code
from chat.replies import Card, Reply, Text, UpdateCard
from models import ApprovalStep, CardTask, Customer, Opportunity, Quote, QuoteStatus, StepStatus, User
from services import approval_rules, cardtasks, roles
from services.approval_routing import active_user
from services.delegation import active_delegates, active_delegation
from services.parsing import format_amount

CARD_KIND = cardtasks.CardKind.APPROVAL


def card_info(session: Session, *, quote: Quote, step: ApprovalStep) -> cards.ApprovalCardInfo:
    opp = session.get(Opportunity, quote.opportunity_id)
    customer = session.get(Customer, opp.customer_id) if opp else None
    requester = active_user(session, quote.requester_userid) or session.scalar(
        select(User).where(User.userid == quote.requester_userid)
    )
    return cards.ApprovalCardInfo(
        quote_id=quote.id,
        customer=customer.name if customer else "",
        opportunity=opp.name if opp else "",
        amount=format_amount(quote.amount),
        requester=requester.name if requester else quote.requester_userid,
        note=quote.note or "",
        score=cards.score_text(opp.score, opp.priority, opp.score_items) if opp else "",
        step=step.seq,
        steps=quote.step_count,
        role_label=roles.label(step.role),
    )


def send_card(
    session: Session,
    *,
    quote: Quote,
    step: ApprovalStep,
    recipient: str,
    task_id: str,
    now: datetime,
    headline: str,
) -> Card:
    cardtasks.issue(session, task_id=task_id, kind=CARD_KIND, ref_id=step.id, recipient=recipient, now=now)
    return Card(
        cards.approval_card(card_info(session, quote=quote, step=step), task_id=task_id, headline=headline),
        to=recipient,
    )


def activate(session: Session, *, quote: Quote, step: ApprovalStep, now: datetime) -> list[Reply]:
    """Step waiting → pending: card to the approver and to anyone currently delegated by them."""
    step.status = StepStatus.PENDING
    step.activated_at = now
    step.task_id = cards.task_id_for(quote.id, step.seq)
    session.flush()
    out: list[Reply] = [
        send_card(
            session,
            quote=quote,
            step=step,
            recipient=step.approver_userid,
            task_id=step.task_id,
            now=now,
            headline="报价审批",
        )
    ]
    out += delegate_cards(session, quote=quote, step=step, now=now)
    return out


def delegate_cards(
    session: Session, *, quote: Quote, step: ApprovalStep, now: datetime, only: str | None = None
) -> list[Reply]:
    out: list[Reply] = []
    for delegate in active_delegates(session, approver_userid=step.approver_userid, now=now):
        if delegate == quote.requester_userid or (only and delegate != only):
            continue
        person = active_user(session, delegate)
        if person is None or not approval_rules.may_act_as_delegate(
            session, delegate=person, step=step, quote=quote
        ):
            continue  # separation of duties: no card, so nothing about the customer reaches them
        delegation = active_delegation(
            session, approver_userid=step.approver_userid, delegate_userid=delegate, now=now
        )
        task_id = cards.task_id_for(quote.id, step.seq, f"d{delegation.id}" if delegation else "d")
        sent = session.scalar(
            select(CardTask.task_id)
            .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id, CardTask.recipient == delegate)
            .limit(1)
        )
        if sent is not None:
            continue
        approver = active_user(session, step.approver_userid)
        out.append(
            send_card(
                session,
                quote=quote,
                step=step,
                recipient=delegate,
                task_id=task_id,
                now=now,
                headline=f"报价审批（代{approver.name if approver else step.approver_userid}）",
            )
        )
    return out


def cards_for_new_delegation(
    session: Session, *, approver_userid: str, delegate_userid: str, now: datetime
) -> list[Reply]:
    """A delegation that starts now also gets the cards of the steps already waiting on the approver."""
    out: list[Reply] = []
    steps = session.scalars(
        select(ApprovalStep).where(
            ApprovalStep.approver_userid == approver_userid, ApprovalStep.status == StepStatus.PENDING
        )
    ).all()
    for step in steps:
        quote = session.get(Quote, step.quote_id)
        if quote is not None and quote.status == QuoteStatus.PENDING:
            out += delegate_cards(session, quote=quote, step=step, now=now, only=delegate_userid)
    return out


def update_cards(
    session: Session,
    *,
    quote: Quote,
    step: ApprovalStep,
    outcome: str,
    skip_task: str | None,
    fallback: str | None,
) -> list[Reply]:
    """Grey the step's other cards with their send codes (each used once; then cleared); text when none."""
    out: list[Reply] = []
    info = card_info(session, quote=quote, step=step)
    tasks = session.scalars(
        select(CardTask)
        .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id)
        .order_by(CardTask.created_at)
    ).all()
    for task in tasks:
        if task.task_id == skip_task:
            continue
        row = card_send_code(session, task=task)
        if row is not None and row.response_code:
            code, row.response_code = row.response_code, None
            card = cards.decided_card(info, task_id=task.task_id, outcome=outcome)
            out.append(UpdateCard(card, code, fallback_text=fallback, to=task.recipient))
        elif fallback:
            out.append(Text(fallback, to=task.recipient))
    return out


def name_of(session: Session, userid: str) -> str:
    user = session.scalar(select(User).where(User.userid == userid))
    return user.name if user else userid


def steps_summary(session: Session, *, quote: Quote) -> str:
    """How each step went, in one line: 第1步 王主管 同意 → 第2步 李工 驳回."""
    labels = {
        StepStatus.APPROVED: "同意",
        StepStatus.REJECTED: "驳回",
        StepStatus.PENDING: "审批中",
        StepStatus.WAITING: "未开始",
        StepStatus.CANCELLED: "未进行",
    }
    steps = session.scalars(
        select(ApprovalStep).where(ApprovalStep.quote_id == quote.id).order_by(ApprovalStep.seq)
    ).all()
    parts = [
        f"第{s.seq}步 {name_of(session, s.acted_by or s.approver_userid)} {labels.get(s.status, s.status)}"
        for s in steps
        if s.status != StepStatus.CANCELLED
    ]
    return "审批经过：" + " → ".join(parts)
