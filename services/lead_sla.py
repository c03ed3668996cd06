"""The lead SLA clock (`salesbot jobs run leads`): working hours since the lead was assigned.

* `remind_after_hours` (4) without 接单 → one reminder to the assignee (per assignment);
* `reassign_after_hours` (24) → re-assigned by the rules to someone else, and the supervisor is told once per
  lead (not per re-assignment).

Working hours are counted as the approvals count them (services/workdays.py: whole working days, holidays
from `approval.holidays`). Claims are conditional UPDATEs, so repeated or concurrent ticks act once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Lead, LeadStatus, User
from services import lead_assign
from services.config import BusinessConfig
from services.leads import assign
from services.workdays import add_working_hours, working_hours_between


def _open_leads(session: Session, *, limit: int, unreminded: bool) -> list[Lead]:
    """Open, assigned leads, oldest assignment first; locked (SKIP LOCKED) on PostgreSQL so that concurrent
    ticks split the work instead of acting twice. SQLite has a single writer."""
    query = select(Lead).where(Lead.status == LeadStatus.ASSIGNED, Lead.assigned_at.is_not(None))
    if unreminded:
        query = query.where(Lead.reminded_at.is_(None), Lead.assignee_userid.is_not(None))
    query = query.order_by(Lead.assigned_at, Lead.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def due_reminders(session: Session, *, config: BusinessConfig, now: datetime, limit: int = 500) -> list[Lead]:
    """The open leads whose assignee is reminded now (once per assignment: `reminded_at` is set)."""
    hours = config.leads.remind_after_hours
    out: list[Lead] = []
    for lead in _open_leads(session, limit=limit, unreminded=True):
        assert lead.assigned_at is not None
        if working_hours_between(lead.assigned_at, now, config=config.approval) >= hours:
            lead.reminded_at = now
            out.append(lead)
    session.flush()
    return out


@dataclass
class Reassigned:
    lead: Lead
    previous: str | None
    to: User | None  # None: nobody else could take it; it stays with `previous`
    tell_supervisor: User | None  # set the first time only


def due_reassignments(
    session: Session, *, config: BusinessConfig, now: datetime, limit: int = 500
) -> list[Reassigned]:
    """Re-assign the open leads nobody took within `reassign_after_hours` working hours."""
    hours = config.leads.reassign_after_hours
    out: list[Reassigned] = []
    for lead in _open_leads(session, limit=limit, unreminded=False):
        assert lead.assigned_at is not None
        if working_hours_between(lead.assigned_at, now, config=config.approval) < hours:
            continue
        previous = lead.assignee_userid
        prev_user = _user(session, previous)
        choice = lead_assign.choose(
            session,
            config=config,
            region=lead.region,
            industry=lead.industry,
            now=now,
            exclude=[previous] if previous else [],
        )
        to = choice.user if choice.user is not None and choice.user.userid != previous else None
        # Nobody else: the clock restarts with the same person (so the job does not pick it every tick).
        assign(session, lead=lead, to=to or prev_user, actor="sla", now=now, how=choice.how if to else "kept")
        boss: User | None = None
        if lead.supervisor_told_at is None:
            boss = lead_assign.supervisor_for(session, user=prev_user, region=lead.region)
            lead.supervisor_told_at = now
        out.append(Reassigned(lead, previous, to, boss))
    session.flush()
    return out


def _user(session: Session, userid: str | None) -> User | None:
    return session.scalar(select(User).where(User.userid == userid)) if userid else None


def reminder_due_at(lead: Lead, *, config: BusinessConfig) -> datetime | None:
    """When the reminder falls due (for the card's sub-title)."""
    if lead.assigned_at is None:
        return None
    return add_working_hours(lead.assigned_at, config.leads.remind_after_hours, config=config.approval)
