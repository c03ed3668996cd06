"""`jobs run reminders` (every minute): due reminders → cards; 24 h overdue → one escalation.

Each batch is one transaction: the claim (conditional UPDATE, SKIP LOCKED on PostgreSQL), the outbox row
(unique natural key) and the CardTask row commit together, so a reminder is sent exactly once across
repeated ticks, concurrent ticks and replicas. Reminders that fell due while the server was down are simply
"due and not notified" on the next tick and go out once, marked late (补发).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.reminder import ReminderView, escalation_text, reminder_card, reminder_task_id
from chat.outbox import enqueue
from chat.replies import Card, Text
from models import Reminder, User
from schedulers.base import JobEnv
from services import cardtasks
from services import reminders as svc
from services.parsing import format_when

BATCH = 100


def view_of(session: Session, reminder: Reminder, *, now: datetime) -> ReminderView:
    return ReminderView(
        id=reminder.id,
        title=reminder.title,
        customer=svc.customer_name(session, reminder.customer_id),
        due_text=format_when(reminder.due_at, now=now),
        snooze_count=reminder.snooze_count,
        late=reminder.notified_late,
    )


def send_card(session: Session, reminder: Reminder, *, now: datetime) -> None:
    card = reminder_card(view_of(session, reminder, now=now))
    cardtasks.issue(
        session,
        task_id=reminder_task_id(reminder.id, reminder.snooze_count),
        kind=cardtasks.CardKind.REMINDER,
        ref_id=reminder.id,
        recipient=reminder.owner_userid,
        now=now,
    )
    enqueue(
        session,
        reply=Card(card),
        recipient=reminder.owner_userid,
        dedup_key=f"reminder:{reminder.id}:{reminder.due_at.isoformat()}",
        now=now,
    )


def escalate(session: Session, reminder: Reminder, *, now: datetime, hours: int) -> bool:
    """Tell the owner's supervisor; False when there is nobody to tell (the claim still marks it done)."""
    boss = svc.manager_of(session, userid=reminder.owner_userid)
    if boss is None:
        return False
    owner_name = session.scalar(select(User.name).where(User.userid == reminder.owner_userid)) or reminder.owner_userid
    text = escalation_text(
        owner_name=owner_name,
        reminder_id=reminder.id,
        title=reminder.title,
        customer=svc.customer_name(session, reminder.customer_id),
        due_text=format_when(reminder.due_at, now=now),
        hours=hours,
    )
    enqueue(session, reply=Text(text), recipient=boss.userid, dedup_key=f"reminder-escalate:{reminder.id}", now=now)
    return True


def tick(env: JobEnv, now: datetime, *, batch: int = BATCH) -> tuple[int, int, int]:
    """(cards, late cards, escalations) claimed by this tick (counted from the claims, not from the
    outbox insert, whose rowcount some drivers do not report for ON CONFLICT DO NOTHING)."""
    sent = late = escalated = 0
    while True:
        with env.session_factory() as session, session.begin():
            claimed = svc.claim_due(session, now=now, limit=batch)
            for reminder in claimed:
                send_card(session, reminder, now=now)  # the claim is what makes this once
                sent += 1
                late += 1 if reminder.notified_late else 0
        if len(claimed) < batch:
            break
    hours = env.config.reminders.escalate_after_hours
    while True:
        with env.session_factory() as session, session.begin():
            claimed = svc.claim_escalations(session, now=now, after_hours=hours, limit=batch)
            for reminder in claimed:
                escalated += 1 if escalate(session, reminder, now=now, hours=hours) else 0
        if len(claimed) < batch:
            break
    return sent, late, escalated


def run(env: JobEnv, now: datetime) -> str:
    sent, late, escalated = tick(env, now)
    return f"reminders: {sent} cards ({late} late), {escalated} escalations"
