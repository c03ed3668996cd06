"""`jobs run leads` (every 5 minutes): the lead SLA — one reminder after `remind_after_hours` working hours,
re-assignment after `reassign_after_hours`, the supervisor told once (services/lead_sla.py)."""

from __future__ import annotations

from datetime import datetime

from cards.escalation import escalation_card
from cards.lead import reassigned_text, reminder_text
from chat.replies import Card, Text
from schedulers.base import JobEnv
from schedulers.lead_pushes import push
from services import cardtasks, escalations, lead_sla
from services.leadpool_cards import lead_card_for, user_named


def tick(env: JobEnv, now: datetime) -> tuple[int, int]:
    """(reminders, re-assignments), all in one transaction with their messages."""
    config = env.config
    with env.session_factory() as session, session.begin():
        moved = lead_sla.due_reassignments(session, config=config, now=now)
        hours = config.leads.reassign_after_hours
        for r in moved:
            lead = r.lead
            if r.to is not None:
                push(
                    session,
                    reply=lead_card_for(session, lead=lead, now=now),
                    to=r.to.userid,
                    key=f"lead-card:{lead.id}:{lead.assign_count}",
                    line=f"新线索：{lead.company}",
                    followup=True,
                    now=now,
                    tz=env.settings.tz,
                    config=config,
                )
                if r.previous:
                    push(
                        session,
                        reply=Text(reassigned_text(lead_id=lead.id, company=lead.company, hours=hours)),
                        to=r.previous,
                        key=f"lead-moved:{lead.id}:{lead.assign_count}",
                        line=f"线索已改派：{lead.company}",
                        followup=False,
                        now=now,
                        tz=env.settings.tz,
                        config=config,
                    )
            if r.tell_supervisor is not None:
                view = escalations.lead_view(
                    lead=lead,
                    previous=user_named(session, r.previous),
                    to=r.to.name if r.to is not None else None,
                    hours=hours,
                )
                task_id = escalations.issue(
                    session,
                    kind=cardtasks.CardKind.LEAD_ESCALATION,
                    ref_id=lead.id,
                    recipient=r.tell_supervisor.userid,
                    view=view,
                    now=now,
                )
                push(
                    session,
                    reply=Card(escalation_card(view, task_id=task_id)),
                    to=r.tell_supervisor.userid,
                    key=f"lead-supervisor:{lead.id}",
                    line=f"线索超时未接单：{lead.company}",
                    followup=True,
                    now=now,
                    tz=env.settings.tz,
                    config=config,
                )
        reminded = lead_sla.due_reminders(session, config=config, now=now)
        for lead in reminded:
            assert lead.assignee_userid is not None
            text = reminder_text(lead_id=lead.id, company=lead.company, hours=config.leads.remind_after_hours)
            push(
                session,
                reply=Text(text),
                to=lead.assignee_userid,
                key=f"lead-remind:{lead.id}:{lead.assign_count}",
                line=f"线索待接单：{lead.company}",
                followup=True,
                now=now,
                tz=env.settings.tz,
                config=config,
            )
    return len(reminded), len(moved)


def run(env: JobEnv, now: datetime) -> str:
    reminded, moved = tick(env, now)
    return f"leads: {reminded} reminders, {moved} re-assigned"
