"""`jobs run outbox`: re-drive stuck rows and deliver what is due."""

from __future__ import annotations

from datetime import datetime

from schedulers.base import JobEnv


def deliver_outbox(env: JobEnv, now: datetime) -> str:
    stats = env.deliverer.drain(now=now)
    return f"outbox: sent {stats.sent}, retrying {stats.retried}, failed {stats.failed}, dead {stats.dead}, deferred {stats.deferred}"
