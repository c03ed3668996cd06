"""`jobs run segments` (nightly 02:00): recompute customer segments; newly dormant customers get a wake-up task."""

from __future__ import annotations

from datetime import datetime

from schedulers import JobEnv, job
from services.segments import recompute_segments


@job("segments")
def run(env: JobEnv, now: datetime) -> str:
    with env.session_factory() as session, session.begin():
        return recompute_segments(session, config=env.config, now=now).summary()
