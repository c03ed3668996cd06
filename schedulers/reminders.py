"""`jobs run reminders` (every minute): due reminders → cards; 24 h overdue → one escalation per team.

Each batch is one transaction: the claim (conditional UPDATE, SKIP LOCKED on PostgreSQL), the push (through
services/pushes: the daily budget, folding, outbox rows with unique natural keys) and the CardTask row commit
together, so a reminder is sent exactly once across repeated ticks, concurrent ticks and replicas.
Reminders that fell due while the server was down are simply "due and not notified" on the next tick and go
out once; the card says 补发 only when the tick really was not running at the due time (a heartbeat row),
and 稍晚送达 for any other lateness.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cards.escalation import escalation_card
from cards.reminder import OverdueItem, ReminderView, escalation_line, reminder_card, reminder_task_id
from chat.replies import Card
from models import JobOccurrence, Reminder, User
from models.db import insert_for
from schedulers.base import JobEnv
from services import cardtasks, escalations, pushes, reminder_escalation, reminder_tick
from services.parsing import format_when

BATCH = 100
HEARTBEAT = ("reminders.heartbeat", "last")


def view_of(
    session: Session, reminder: Reminder, *, now: datetime, tz: ZoneInfo, outage: bool = False
) -> ReminderView:
    return ReminderView(
        id=reminder.id,
        title=reminder.title,
        customer=reminder_tick.customer_name(session, reminder.customer_id),
        due_text=format_when(reminder.due_at, now=now, tz=tz),
        snooze_count=reminder.snooze_count,
        late=reminder.notified_late,
        outage=outage,
    )


def _card_task(
    session: Session, *, task_id: str, kind: cardtasks.CardKind, ref_id: int, recipient: str, now: datetime
) -> None:
    cardtasks.issue(session, task_id=task_id, kind=kind, ref_id=ref_id, recipient=recipient, now=now)


def card_event(
    session: Session, reminder: Reminder, *, now: datetime, tz: ZoneInfo, last_tick: datetime | None
) -> pushes.Event:
    outage = reminder.notified_late and (last_tick is None or last_tick < reminder.due_at)
    view = view_of(session, reminder, now=now, tz=tz, outage=outage)
    task_id = reminder_task_id(reminder.id, reminder.snooze_count)
    _card_task(
        session,
        task_id=task_id,
        kind=cardtasks.CardKind.REMINDER,
        ref_id=reminder.id,
        recipient=reminder.owner_userid,
        now=now,
    )
    return pushes.Event(
        to=reminder.owner_userid,
        kind="reminder",
        priority=pushes.Priority.FOLLOWUP,
        reply=Card(reminder_card(view, task_id=task_id)),
        line=f"跟进到期 #{reminder.id} {view.title[:24]}（{view.customer[:16]}，{view.due_text}）",
        key=f"reminder:{reminder.id}:{reminder.due_at.isoformat()}",
    )


def escalation_events(
    session: Session, claimed: list[Reminder], *, now: datetime, tz: ZoneInfo, hours: int
) -> list[pushes.Event]:
    """One card per supervisor listing all of their team's reminders that became overdue in this run."""
    by_boss: dict[str, list[OverdueItem]] = {}
    names = dict(
        session.execute(
            select(User.userid, User.name).where(User.userid.in_({r.owner_userid for r in claimed}))
        ).all()
    )
    for reminder in claimed:
        boss = reminder_escalation.manager_of(session, userid=reminder.owner_userid)
        if boss is None:
            continue  # nobody to tell; the claim still marks it escalated
        by_boss.setdefault(boss.userid, []).append(
            OverdueItem(
                reminder_id=reminder.id,
                owner_name=names.get(reminder.owner_userid, reminder.owner_userid),
                title=reminder.title,
                customer=reminder_tick.customer_name(session, reminder.customer_id),
                customer_id=reminder.customer_id,
                due_text=format_when(reminder.due_at, now=now, tz=tz),
            )
        )
    events: list[pushes.Event] = []
    for boss_id, items in by_boss.items():
        view = escalations.team_view(items, hours=hours)
        task_id = escalations.issue(
            session,
            kind=cardtasks.CardKind.ESCALATION,
            ref_id=items[0].reminder_id,
            recipient=boss_id,
            view=view,
            now=now,
        )
        line = f"团队跟进逾期 {len(items)} 条：" + "；".join(escalation_line(i) for i in items[:3])
        events.append(
            pushes.Event(
                to=boss_id,
                kind="escalation",
                priority=pushes.Priority.FOLLOWUP,
                reply=Card(escalation_card(view, task_id=task_id)),
                line=line[:120],
                key=f"reminder-escalate:{'-'.join(str(i.reminder_id) for i in items)}"[:500],
            )
        )
    return events


def _heartbeat(session: Session, *, now: datetime) -> datetime | None:
    """The previous tick's time (None: never ran), and record this one."""
    job_name, occurrence = HEARTBEAT
    row = session.scalar(
        select(JobOccurrence).where(JobOccurrence.job == job_name, JobOccurrence.occurrence == occurrence)
    )
    if row is None:
        session.execute(
            insert_for(session)(JobOccurrence)
            .values(job=job_name, occurrence=occurrence, created_at=now)
            .on_conflict_do_nothing(index_elements=["job", "occurrence"])
        )
        return None
    previous = row.created_at
    if previous < now:
        session.execute(
            update(JobOccurrence)
            .where(JobOccurrence.id == row.id, JobOccurrence.created_at < now)
            .values(created_at=now)
        )
    return previous


def tick(env: JobEnv, now: datetime, *, batch: int = BATCH) -> tuple[int, int, int]:
    """(cards, late cards, escalated reminders) claimed by this tick (counted from the claims)."""
    sent = late = escalated = 0
    tz = env.settings.tz
    with env.session_factory() as session, session.begin():
        last_tick = _heartbeat(session, now=now)
    budget = env.config.pushes
    while True:
        with env.session_factory() as session, session.begin():
            claimed = reminder_tick.claim_due(session, now=now, limit=batch)
            events = [card_event(session, r, now=now, tz=tz, last_tick=last_tick) for r in claimed]
            pushes.push_all(
                session, events, now=now, tz=tz, config=budget
            )  # the claim is what makes this once
            sent += len(claimed)
            late += sum(1 for r in claimed if r.notified_late)
        if len(claimed) < batch:
            break
    hours = env.config.reminders.escalate_after_hours
    while True:
        with env.session_factory() as session, session.begin():
            claimed = reminder_escalation.claim_escalations(session, now=now, after_hours=hours, limit=batch)
            pushes.push_all(
                session,
                escalation_events(session, claimed, now=now, tz=tz, hours=hours),
                now=now,
                tz=tz,
                config=budget,
            )
            escalated += len(claimed)
        if len(claimed) < batch:
            break
    return sent, late, escalated


def run(env: JobEnv, now: datetime) -> str:
    sent, late, escalated = tick(env, now)
    return f"reminders: {sent} cards ({late} late), {escalated} escalations"
