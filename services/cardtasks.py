"""Card tasks: the server's record of every interactive card it sent, and the one authorisation of a tap.

A card's buttons only *select* an action (cards/keys.py); what a tap may act on comes from the CardTask row
found by the card's task_id and from the decrypted sender, checked here for every kind of card. Every refused
tap is audited, and the fifth refusal by one person within 10 minutes alerts the admins once per window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chat.replies import Reply, Text
from models import AuditEntry, CardTask, User
from models.db import affected, insert_for
from services import audit, roles

DENIAL_WINDOW = timedelta(minutes=10)
DENIAL_ALERT_AT = 5

NOT_FOR_YOU = "这张卡片不是发给您的，无法操作。"


class CardKind(StrEnum):
    APPROVAL = "approval"  # ref_id: ApprovalStep.id
    REMINDER = "reminder"  # ref_id: Reminder.id
    VISIT = "visit"  # ref_id: Visit.id
    PROPOSAL = "proposal"  # ref_id: Proposal.id
    ESCALATION = "escalation"  # ref_id: the first Reminder.id of a team escalation card
    APPROVAL_ESCALATION = "escalation.approval"  # ref_id: the ApprovalStep.id waiting too long
    LEAD_ESCALATION = "escalation.lead"  # ref_id: the Lead.id not accepted in time
    REQUOTE = "quote.requote"  # ref_id: the rejected Quote.id (重新报价)
    CUSTOMER_DUP = "customer_dup"  # ref_id: the Customer whose phone a new customer shares (仍然新建)
    LEAD = "lead"  # ref_id: Lead.id (the assignee's card)
    LEAD_TRANSFER = "lead.transfer"  # ref_id: Lead.id (the supervisor's 转派 card)
    POOL_COUNTDOWN = "pool.countdown"  # ref_id: User.id of the owner (the customers are re-read at the tap)
    POOL_EXTENSION = "pool.extension"  # ref_id: PoolExtension.id
    COLLECTION = "collection"  # ref_id: Instalment.id (the due-day card)


# The audit entity a refused tap on each kind of card is recorded under.
ENTITY: dict[CardKind, str] = {
    CardKind.APPROVAL: "approval_step",
    CardKind.REMINDER: "reminder",
    CardKind.VISIT: "visit",
    CardKind.PROPOSAL: "proposal",
    CardKind.ESCALATION: "reminder",
    CardKind.APPROVAL_ESCALATION: "approval_step",
    CardKind.LEAD_ESCALATION: "lead",
    CardKind.REQUOTE: "quote",
    CardKind.CUSTOMER_DUP: "customer",
    CardKind.LEAD: "lead",
    CardKind.LEAD_TRANSFER: "lead",
    CardKind.POOL_COUNTDOWN: "customer",
    CardKind.POOL_EXTENSION: "pool_extension",
    CardKind.COLLECTION: "instalment",
}


def issue(
    session: Session, *, task_id: str, kind: CardKind, ref_id: int, recipient: str, now: datetime
) -> bool:
    """Record a card about to be sent; idempotent on task_id. True when the task is new (send the card)."""
    stmt = (
        insert_for(session)(CardTask)
        .values(task_id=task_id, kind=kind.value, ref_id=ref_id, recipient=recipient, created_at=now)
        .on_conflict_do_nothing(index_elements=["task_id"])
        .returning(CardTask.task_id)
    )
    return session.execute(stmt).scalar() is not None


def settle(session: Session, *, task_id: str, now: datetime) -> bool:
    """Mark a one-shot card handled; True for the first tap only (a conditional UPDATE: of two taps at once,
    one wins)."""
    claimed = session.execute(
        update(CardTask)
        .where(CardTask.task_id == task_id, CardTask.handled_at.is_(None))
        .values(handled_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected(claimed) == 1


def deny(
    session: Session,
    *,
    actor: User,
    kind: CardKind,
    task_id: str | None,
    action: str,
    reason: str,
    entity_id: int | None,
    now: datetime,
) -> list[Reply]:
    """Audit a refused tap; returns the admins' alert when this is the fifth refusal within the window."""
    audit.record(
        session,
        actor=actor.userid,
        entity=ENTITY[kind],
        entity_id=entity_id,
        action=action,
        outcome="denied",
        detail=reason,
        task_id=task_id,
        now=now,
    )
    session.flush()
    since = now - DENIAL_WINDOW
    count = (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == actor.userid, AuditEntry.outcome == "denied", AuditEntry.at > since)
        )
        or 0
    )
    if count < DENIAL_ALERT_AT:
        return []
    alerted = session.scalar(
        select(AuditEntry.id)
        .where(AuditEntry.actor == actor.userid, AuditEntry.action == "denial_alert", AuditEntry.at > since)
        .limit(1)
    )
    if alerted is not None:
        return []
    audit.record(
        session,
        actor=actor.userid,
        entity="user",
        entity_id=actor.id,
        action="denial_alert",
        outcome="alert",
        detail=f"{count} refused taps in 10 minutes",
        now=now,
    )
    admins = session.scalars(
        select(User.userid).where(User.role == roles.Role.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()
    text = (
        f"【安全提醒】{actor.name}（{actor.display_userid}）在10分钟内有{count}次卡片操作被拒绝"
        "（点击了不属于自己的审批或卡片）。请核实是否有误操作或越权尝试。"
    )
    return [Text(text, to=admin) for admin in admins]


def authorise(
    session: Session,
    *,
    actor: User,
    task_id: str | None,
    kind: CardKind,
    action: str,
    now: datetime,
    unknown_text: str,
    recipient_only: bool = True,
) -> CardTask | list[Reply]:
    """The card task this tap may act on, or the refusal replies (audited, alerting on repeats).

    Unknown or foreign-kind task ids answer `unknown_text`. Only the card's recipient may tap it, unless
    `recipient_only` is False: approval cards check the step's current approver and delegates themselves
    (services/approval_taps.py) and refuse through `deny`.
    """
    task = session.get(CardTask, task_id) if task_id else None
    if task is None or task.kind != kind.value:
        return [
            Text(unknown_text),
            *deny(
                session,
                actor=actor,
                kind=kind,
                task_id=task_id,
                action=action,
                reason="unknown task_id",
                entity_id=None,
                now=now,
            ),
        ]
    if recipient_only and task.recipient != actor.userid:
        return [
            Text(NOT_FOR_YOU),
            *deny(
                session,
                actor=actor,
                kind=kind,
                task_id=task_id,
                action=action,
                reason=f"not the recipient ({task.recipient})",
                entity_id=task.ref_id,
                now=now,
            ),
        ]
    return task
