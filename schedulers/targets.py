"""`jobs run targets` (daily at 09:17): the once-only target nudges of services/target_nudges.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chat.outbox import enqueue
from chat.replies import Text
from schedulers.base import JobEnv
from services.target_nudges import Nudge, due_nudges


def _push(session: Session, *, nudge: Nudge, now: datetime) -> None:
    """The one place target nudges leave: the push budget's entry point once it exists."""
    enqueue(session, reply=Text(nudge.text), recipient=nudge.to, dedup_key=nudge.key, now=now)


def run(env: JobEnv, now: datetime) -> str:
    with env.session_factory() as session, session.begin():
        nudges = due_nudges(session, config=env.config, now=now)
        for nudge in nudges:
            _push(session, nudge=nudge, now=now)
    return f"{len(nudges)} target nudges"
