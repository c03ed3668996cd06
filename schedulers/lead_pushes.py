"""The one place the lead and pool jobs push from the bot's own initiative (SLA reminders, re-assignment
notices, countdown cards, release notices): through the per-person daily push budget (services/pushes.py),
so they fold with the person's other pushes and what does not fit waits in their next 待办."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from chat.replies import Reply
from services import pushes
from services.config import BusinessConfig


def push(
    session: Session,
    *,
    reply: Reply,
    to: str,
    key: str,
    line: str,
    followup: bool,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig,
) -> int:
    """Push `reply` to `to` in the caller's transaction; `key` is the event's natural key (a rerun is a no-op),
    `line` its one-line form when folded or held, `followup` ranks it with follow-ups (else progress news).
    Returns 1 when it went out now (alone or folded), 0 when it was held for 待办 or was already pushed."""
    priority = pushes.Priority.FOLLOWUP if followup else pushes.Priority.PROGRESS
    kind = key.split(":", 1)[0]
    delivery = pushes.push(
        session,
        to=to,
        kind=kind,
        priority=priority,
        reply=reply,
        line=line,
        key=key,
        now=now,
        tz=tz,
        config=config.pushes,
    )
    return 1 if delivery.sent or delivery.folded else 0
