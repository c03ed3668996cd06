"""The reminder tick's claim: due reminders, each claimed by exactly one caller.

Exactly-once comes from a conditional update (compare-and-set on ``notified_at``); on PostgreSQL the candidate
SELECT also locks with ``FOR UPDATE SKIP LOCKED`` so concurrent ticks on several replicas split the work
instead of waiting on each other. The scheduler (schedulers/reminders.py) turns the claimed rows into cards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from models import Customer, Reminder, ReminderStatus
from models.db import affected, is_postgres

LATE_AFTER = timedelta(minutes=5)  # a card sent more than this after due_at is a catch-up (补发)


def due_candidates(*, now: datetime, limit: int, postgres: bool) -> Select[Any]:
    """The candidate SELECT of the claim (separate so its PostgreSQL compilation can be asserted)."""
    query = (
        select(Reminder.id)
        .where(Reminder.status == ReminderStatus.OPEN, Reminder.notified_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


def claim_due(session: Session, *, now: datetime, limit: int = 100) -> list[Reminder]:
    """Claim due, not yet notified reminders; each row is claimed by exactly one caller.

    Sets ``notified_at`` (and ``notified_late`` when it fell due more than 5 minutes ago, e.g. the server
    was down). The caller enqueues the card in the same transaction.
    """
    ids = list(session.scalars(due_candidates(now=now, limit=limit, postgres=is_postgres(session))))
    claimed: list[int] = []
    for rid in ids:
        result = session.execute(
            update(Reminder)
            .where(
                Reminder.id == rid,
                Reminder.status == ReminderStatus.OPEN,
                Reminder.notified_at.is_(None),
                Reminder.due_at <= now,
            )
            .values(notified_at=now, notified_late=Reminder.due_at < now - LATE_AFTER)
            .execution_options(synchronize_session=False)
        )
        if affected(result):
            claimed.append(rid)
    if not claimed:
        return []
    rows = session.scalars(
        select(Reminder)
        .where(Reminder.id.in_(claimed))
        .order_by(Reminder.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def customer_name(session: Session, customer_id: int | None) -> str:
    if customer_id is None:
        return "—"
    return session.scalar(select(Customer.name).where(Customer.id == customer_id)) or "—"
