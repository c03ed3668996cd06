"""`jobs run targets` (daily at 09:17): the once-only target nudges of services/target_nudges.py, sent through
the push budget (services/pushes: progress news, the lowest priority; what does not fit waits in 待办)."""

from __future__ import annotations

from datetime import datetime

from chat.replies import Text
from schedulers.base import JobEnv
from services import pushes
from services.target_nudges import due_nudges


def run(env: JobEnv, now: datetime) -> str:
    with env.session_factory() as session, session.begin():
        nudges = due_nudges(session, config=env.config, now=now)
        events = [
            pushes.Event(
                to=n.to,
                kind="target",
                priority=pushes.Priority.PROGRESS,
                reply=Text(n.text),
                line=n.line or n.text,
                key=n.key,
            )
            for n in nudges
        ]
        pushes.push_all(session, events, now=now, tz=env.settings.tz, config=env.config.pushes)
    return f"{len(nudges)} target nudges"
