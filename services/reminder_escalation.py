"""Overdue reminders go to the owner's manager: whom (`manager_of`), claiming each escalation once (``escalated_at``,
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and the 关键节点按时完成率 that counts an escalated reminder
as late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session

from models import Reminder, ReminderStatus, Role, User
from models.db import affected, is_postgres


def escalation_candidates(*, now: datetime, after_hours: int, limit: int, postgres: bool) -> Select[Any]:
    query = (
        select(Reminder.id)
        .where(
            Reminder.status == ReminderStatus.OPEN,
            Reminder.completed_at.is_(None),
            Reminder.escalated_at.is_(None),
            Reminder.due_at <= now - timedelta(hours=after_hours),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


def claim_escalations(
    session: Session, *, now: datetime, after_hours: int, limit: int = 100
) -> list[Reminder]:
    """Open reminders `after_hours` past due and never escalated; each is claimed once (``escalated_at``)."""
    ids = list(
        session.scalars(
            escalation_candidates(
                now=now, after_hours=after_hours, limit=limit, postgres=is_postgres(session)
            )
        )
    )
    claimed: list[int] = []
    for rid in ids:
        result = session.execute(
            update(Reminder)
            .where(
                Reminder.id == rid, Reminder.status == ReminderStatus.OPEN, Reminder.escalated_at.is_(None)
            )
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if affected(result):
            claimed.append(rid)
    if not claimed:
        return []
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.id.in_(claimed))
            .order_by(Reminder.id)
            .execution_options(populate_existing=True)
        )
    )


def manager_of(session: Session, *, userid: str) -> User | None:
    """Whom an overdue reminder escalates to: the owner's manager (上级, any role), else their region's 销售主管.

    Not `approval_routing.supervisor_of`, which must find a 销售主管 (an approval step's role) and skips other managers.
    """
    owner = session.scalar(select(User).where(User.userid == userid))
    if owner is None:
        return None
    if owner.manager_userid:
        manager = session.scalar(
            select(User).where(User.userid == owner.manager_userid.lower(), User.active.is_(True))
        )
        if manager is not None and manager.userid != owner.userid:
            return manager
    if owner.region:
        return session.scalar(
            select(User)
            .where(
                User.region == owner.region,
                User.role == Role.SUPERVISOR,
                User.active.is_(True),
                User.userid != owner.userid,
            )
            .order_by(User.id)
            .limit(1)
        )
    return None


def on_time_rate(
    session: Session, *, userids: list[str] | None, start: datetime, end: datetime, grace_hours: int = 24
) -> tuple[int, int]:
    """(done_on_time, due) for reminders whose due time falls in [start, end).

    Definition: *due* counts every reminder (any owner in `userids`; None = everyone) with ``due_at`` in
    [start, end) that was not cancelled. It is *done on time* when it was completed no later than
    ``grace_hours`` (the escalation threshold, config.reminders.escalate_after_hours) after its due time
    and was never escalated — i.e. it never needed the supervisor. ``due_at`` is the current due time, so a
    snooze moves the reminder (the escalation mark still counts it as late once it happened).
    """
    base = and_(Reminder.due_at >= start, Reminder.due_at < end, Reminder.status != ReminderStatus.CANCELLED)
    if userids is not None:
        if not userids:
            return 0, 0
        base = and_(base, Reminder.owner_userid.in_(userids))
    rows = session.execute(
        select(Reminder.due_at, Reminder.completed_at, Reminder.status, Reminder.escalated_at).where(base)
    ).all()
    due = len(rows)
    grace = timedelta(hours=grace_hours)
    done = sum(
        1
        for due_at, completed_at, status, escalated_at in rows
        if status == ReminderStatus.DONE
        and completed_at is not None
        and escalated_at is None
        and completed_at <= due_at + grace
    )
    return done, due
