"""`jobs run segments` (nightly 02:00): recompute customer segments; newly dormant customers get a wake-up task.

Each run records the night it covers; a server that was down at 02:00 runs it once when it starts again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from models import JobOccurrence
from schedulers.base import JobEnv, claim_occurrence
from services.parsing import SHANGHAI
from services.segments import recompute_segments


def night_of(now: datetime) -> str:
    """The night a run at `now` covers: runs before 02:00 still belong to the previous night."""
    return (now.astimezone(SHANGHAI) - timedelta(hours=2)).date().isoformat()


def run(env: JobEnv, now: datetime) -> str:
    with env.session_factory() as session, session.begin():
        summary = recompute_segments(session, config=env.config, now=now, tz=env.settings.tz).summary()
        claim_occurrence(session, job="segments", occurrence=night_of(now), now=now)
        return summary


def missed(env: JobEnv, now: datetime) -> bool:
    """True when tonight's (or last night's) recompute has not happened yet."""
    with env.session_factory() as session:
        done = session.scalar(
            select(JobOccurrence.id).where(
                JobOccurrence.job == "segments", JobOccurrence.occurrence == night_of(now)
            )
        )
    return done is None
