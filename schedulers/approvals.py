"""`jobs run approvals`: steps waiting too long (working hours) → re-announced to the approver, then escalated.

Each notice is claimed by a conditional UPDATE (reminders_sent = n → n+1; escalated_at NULL → now) in the same
transaction as its outbox row, whose dedup key is natural, so replicas and reruns never send twice. The run is
one transaction (a savepoint per step) ending with one `pushes.push_all`: an approver's several waiting quotes
are one card (services/pushes.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cards import approval as cards
from cards.escalation import escalation_card
from chat.replies import Card, Reply, Text
from models import ApprovalStep, Quote, QuoteStatus, StepStatus, User
from models.db import affected
from schedulers.base import JobEnv
from services import approval_cards, approval_routing, audit, cardtasks, escalations, pushes
from services.config import BusinessConfig
from services.workdays import working_hours_between


def _candidates(session: Session) -> list[int]:
    query = (
        select(ApprovalStep.id)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .where(
            ApprovalStep.status == StepStatus.PENDING,
            Quote.status == QuoteStatus.PENDING,
            ApprovalStep.activated_at.is_not(None),
        )
        .order_by(ApprovalStep.id)
    )
    return list(session.scalars(query))


def _reminder(session: Session, *, step: ApprovalStep, quote: Quote, n: int, now: datetime) -> Reply:
    task_id = cards.task_id_for(quote.id, step.seq, f"r{n}")
    cardtasks.issue(
        session,
        task_id=task_id,
        kind=approval_cards.CARD_KIND,
        ref_id=step.id,
        recipient=step.approver_userid,
        now=now,
    )
    info = approval_cards.card_info(session, quote=quote, step=step)
    return Card(
        cards.approval_card(info, task_id=task_id, headline=f"报价审批 · 待您处理（第{n}次提醒）"),
        to=step.approver_userid,
    )


def process(session: Session, *, config: BusinessConfig, step_id: int, now: datetime) -> list[pushes.Event]:
    """Claim the reminder and/or escalation one step is owed as of `now` and return its events (the run
    pushes them together: one message per person and run, through the push budget)."""
    cfg = config.approval
    query = select(ApprovalStep).where(ApprovalStep.id == step_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    step = session.scalar(query)
    if step is None or step.status != StepStatus.PENDING or step.activated_at is None:
        return []
    quote = session.get(Quote, step.quote_id)
    if quote is None or quote.status != QuoteStatus.PENDING:
        return []
    waited = working_hours_between(step.activated_at, now, config=cfg)
    events: list[pushes.Event] = []
    n = step.reminders_sent
    since_last = (
        working_hours_between(step.last_reminded_at, now, config=cfg) if step.last_reminded_at else waited
    )
    if waited >= cfg.remind_after_hours and n < cfg.max_reminders and since_last >= 24:
        claimed = affected(
            session.execute(
                update(ApprovalStep)
                .where(
                    ApprovalStep.id == step.id,
                    ApprovalStep.status == StepStatus.PENDING,
                    ApprovalStep.reminders_sent == n,
                )
                .values(reminders_sent=n + 1, last_reminded_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed == 1:
            reply = _reminder(session, step=step, quote=quote, n=n + 1, now=now)
            info = approval_cards.card_info(session, quote=quote, step=step)
            events.append(
                pushes.Event(
                    to=step.approver_userid,
                    kind="approval",
                    priority=pushes.Priority.APPROVAL,
                    reply=reply,
                    line=f"待您审批 报价#{quote.id} {info.customer} {info.amount}（第{n + 1}次提醒）",
                    key=f"approval-remind:{step.id}:{n + 1}",
                )
            )
            if (
                step.seq > 1
            ):  # the requester heard nothing since submitting: say where it stands, once per step
                approver = _name(session, step.approver_userid)
                events.append(
                    pushes.Event(
                        to=quote.requester_userid,
                        kind="progress",
                        priority=pushes.Priority.PROGRESS,
                        reply=Text(
                            f"报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）进展："
                            f"{approval_cards.steps_summary(session, quote=quote)}。{approver}处已等待约{int(waited)}个工作小时，"
                            "已再次提醒。"
                        ),
                        line=f"报价#{quote.id} 在{approver}处等待约{int(waited)}个工作小时",
                        key=f"approval-progress:{step.id}",
                    )
                )
            audit.record(
                session,
                actor="system",
                entity="approval_step",
                entity_id=step.id,
                action="remind",
                now=now,
                detail=f"reminder {n + 1}, waited {waited:.1f} working hours",
            )
    if waited >= cfg.escalate_after_hours and step.escalated_at is None:
        claimed = affected(
            session.execute(
                update(ApprovalStep)
                .where(
                    ApprovalStep.id == step.id,
                    ApprovalStep.status == StepStatus.PENDING,
                    ApprovalStep.escalated_at.is_(None),
                )
                .values(escalated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed == 1:
            target = _escalation_target(session, quote=quote, step=step)
            if target is not None:
                events.append(
                    _escalation(session, step=step, quote=quote, target=target, waited=waited, now=now)
                )
            audit.record(
                session,
                actor="system",
                entity="approval_step",
                entity_id=step.id,
                action="escalate",
                now=now,
                detail=f"to {target}, waited {waited:.1f} working hours",
            )
    return events


def _escalation(
    session: Session, *, step: ApprovalStep, quote: Quote, target: str, waited: float, now: datetime
) -> pushes.Event:
    """The card to the requester's supervisor (or the late approver's manager): 查看客户 · 已协助."""
    view = escalations.approval_view(session, step=step, waited=waited)
    task_id = escalations.issue(
        session,
        kind=cardtasks.CardKind.APPROVAL_ESCALATION,
        ref_id=step.id,
        recipient=target,
        view=view,
        now=now,
    )
    return pushes.Event(
        to=target,
        kind="escalation",
        priority=pushes.Priority.FOLLOWUP,
        reply=Card(escalation_card(view, task_id=task_id)),
        line=f"审批等待较久 报价#{quote.id} 在{_name(session, step.approver_userid)}处约{int(waited)}个工作小时",
        key=f"approval-escalate:{step.id}",
    )


def _name(session: Session, userid: str) -> str:
    return session.scalar(select(User.name).where(User.userid == userid)) or userid


def _escalation_target(session: Session, *, quote: Quote, step: ApprovalStep) -> str | None:
    """The requester's supervisor; when that is the very approver who is late, their own manager."""
    requester = session.scalar(select(User).where(User.userid == quote.requester_userid))
    if requester is None:
        return None
    supervisor = approval_routing.supervisor_of(session, user=requester)
    target = supervisor.userid if supervisor else None
    if target is None or target == step.approver_userid:
        approver = session.scalar(select(User).where(User.userid == step.approver_userid))
        target = approver.manager_userid if approver and approver.manager_userid else target
    if target == step.approver_userid:
        return None
    return target


def run(env: JobEnv, now: datetime) -> str:
    with env.session_factory() as session:
        ids = _candidates(session)
    with env.session_factory() as session, session.begin():
        events: list[pushes.Event] = []
        for step_id in ids:
            with session.begin_nested():
                events += process(session, config=env.config, step_id=step_id, now=now)
        # One push for the whole run: an approver's several waiting quotes become one card (services/pushes.py).
        pushes.push_all(session, events, now=now, tz=env.settings.tz, config=env.config.pushes)
    return f"approvals: checked {len(ids)} waiting steps, {len(events)} notices"
