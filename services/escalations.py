"""Escalations to a manager as cards with 查看客户 · 已协助 (cards/escalation.py): what each cause says,
sending one, and what the two buttons do.

Each cause has its card kind (services/cardtasks.py), so a tap finds its record: a team's overdue follow-ups
(ref: the first Reminder), an approval step waiting too long (ref: the ApprovalStep), a lead not accepted in
time (ref: the Lead). What the card said is kept in the audit row written when it is issued, so the greyed
card after 已协助 is the same card. 已协助 only records that the manager helped (an audit row) and changes no
data; the card task is settled once, so a second tap is answered 这张卡片已处理过。
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.escalation import EscalationView, escalation_task_id
from cards.reminder import OverdueItem, escalation_line
from models import ApprovalStep, AuditEntry, CardTask, Lead, Opportunity, Quote, Reminder, User
from services import approval_cards, audit, cardtasks

KINDS = (
    cardtasks.CardKind.ESCALATION,
    cardtasks.CardKind.APPROVAL_ESCALATION,
    cardtasks.CardKind.LEAD_ESCALATION,
)
ALREADY = "这张卡片已处理过。"
ISSUED = "escalation_card"  # the audit action of a sent escalation card (its words in `changes`)


def kind_of(session: Session, task_id: str | None) -> cardtasks.CardKind:
    """The escalation kind of a tapped card (a task of any other kind: ESCALATION, which authorise refuses)."""
    task = session.get(CardTask, task_id) if task_id else None
    for kind in KINDS:
        if task is not None and task.kind == kind.value:
            return kind
    return cardtasks.CardKind.ESCALATION


# --- what each escalation says -----------------------------------------------------------------------------


def team_view(items: list[OverdueItem], *, hours: int) -> EscalationView:
    """All of a team's follow-ups that became overdue in one run, in one card."""
    return EscalationView(
        title="团队跟进逾期",
        desc=f"{len(items)}条跟进超过{hours}小时未完成，可以了解一下需要什么帮助",
        body=tuple(escalation_line(item) for item in items),
        with_customer=len({item.customer_id for item in items}) == 1 and items[0].customer_id is not None,
    )


def approval_view(session: Session, *, step: ApprovalStep, waited: float) -> EscalationView:
    quote = session.get_one(Quote, step.quote_id)
    info = approval_cards.card_info(session, quote=quote, step=step)
    approver = session.scalar(select(User.name).where(User.userid == step.approver_userid))
    return EscalationView(
        title="审批等待较久",
        desc=f"报价 #{quote.id} 已等待约{int(waited)}个工作小时",
        body=(
            f"{info.requester}的报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）",
            f"在{approver or step.approver_userid}（{info.role_label}）处等待审批，可以协助跟进一下。",
        ),
        with_customer=bool(info.customer),
    )


def lead_view(*, lead: Lead, previous: str, to: str | None, hours: int) -> EscalationView:
    where = f"已改派给{to}" if to else "暂无其他可分配的销售，仍由其负责"
    return EscalationView(
        title="线索未按时接单",
        desc=f"线索 #{lead.id} 超过{hours}个工作小时未接单",
        body=(f"线索 #{lead.id}「{lead.company}」分给{previous}后超过 {hours} 个工作小时未接单，{where}。",),
        with_customer=True,
    )


def issue(
    session: Session,
    *,
    kind: cardtasks.CardKind,
    ref_id: int,
    recipient: str,
    view: EscalationView,
    now: datetime,
) -> str:
    """Record an escalation card about to be pushed (its task and what it says); returns its task_id."""
    task_id = escalation_task_id()
    cardtasks.issue(session, task_id=task_id, kind=kind, ref_id=ref_id, recipient=recipient, now=now)
    audit.record(
        session,
        actor="system",
        entity=cardtasks.ENTITY[kind],
        entity_id=ref_id,
        action=ISSUED,
        now=now,
        task_id=task_id,
        detail=f"to {recipient}",
        changes={
            "title": view.title,
            "desc": view.desc,
            "body": list(view.body),
            "with_customer": view.with_customer,
        },
    )
    return task_id


# --- the buttons -------------------------------------------------------------------------------------------


def customer_of(session: Session, *, task: CardTask) -> int | None:
    """The customer 查看客户 shows (the tapper's scope is applied by the 客户 command); None: not one yet."""
    if task.kind == cardtasks.CardKind.APPROVAL_ESCALATION:
        step = session.get(ApprovalStep, task.ref_id)
        quote = session.get(Quote, step.quote_id) if step else None
        opp = session.get(Opportunity, quote.opportunity_id) if quote else None
        return opp.customer_id if opp else None
    if task.kind == cardtasks.CardKind.LEAD_ESCALATION:
        lead = session.get(Lead, task.ref_id)
        return lead.customer_id if lead else None
    reminder = session.get(Reminder, task.ref_id)
    return reminder.customer_id if reminder else None


def lead_summary(session: Session, *, task: CardTask) -> str | None:
    """查看客户 on a lead not accepted yet: the lead itself (its company is not a customer yet)."""
    lead = session.get(Lead, task.ref_id) if task.kind == cardtasks.CardKind.LEAD_ESCALATION else None
    if lead is None:
        return None
    assignee = session.scalar(select(User.name).where(User.userid == lead.assignee_userid)) or "—"
    state = {"assigned": "待接单", "accepted": "已接单", "invalid": "已标记无效"}.get(
        lead.status, lead.status
    )
    lines = [
        f"线索 #{lead.id}「{lead.company}」（{state}）",
        f"联系人：{lead.contact or '—'}　行业：{lead.industry or '—'}　区域：{lead.region or '—'}",
        f"当前负责：{assignee}",
    ]
    if lead.note:
        lines.append(f"需求：{lead.note}")
    return "\n".join(lines)


def assist(session: Session, *, task: CardTask, actor: User, now: datetime) -> bool:
    """已协助: recorded once (False: the card was handled already). No other data changes."""
    if not cardtasks.settle(session, task_id=task.task_id, now=now):
        return False
    audit.record(
        session,
        actor=actor.userid,
        entity=cardtasks.ENTITY[cardtasks.CardKind(task.kind)],
        entity_id=task.ref_id,
        action="assisted",
        now=now,
        task_id=task.task_id,
    )
    return True


def view_again(session: Session, *, task: CardTask) -> EscalationView | None:
    """The card as it was sent (to grey it after 已协助); None when its record is gone."""
    said = session.scalar(
        select(AuditEntry.changes)
        .where(AuditEntry.task_id == task.task_id, AuditEntry.action == ISSUED)
        .limit(1)
    )
    if not said:
        return None
    return EscalationView(
        title=str(said.get("title", "")),
        desc=str(said.get("desc", "")),
        body=tuple(str(line) for line in said.get("body") or ()),
        with_customer=bool(said.get("with_customer")),
    )
