"""Scheduled jobs. Each opens a transaction, calls a service, enqueues replies; correctness comes from
database claims and unique keys, so every replica may run the schedule (APScheduler only says *when*).

The jobs are listed in schedulers/jobs.py; here they are run once (`run_job`) or on their schedule."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from schedulers.base import JobEnv
from schedulers.jobs import JOBS, Every, by_name

log = logging.getLogger("salesbot.jobs")


def run_job(name: str, env: JobEnv, now: datetime, *, deliver: bool = True) -> str:
    """Run one job to completion as of `now`, including delivering what it enqueued (KeyError: no such job)."""
    summary = by_name(name).run(env, now)
    if deliver and name != "outbox":
        stats = env.deliverer.drain(now=now)
        summary += (
            f"; delivered {stats.sent}, retrying {stats.retried}, failed {stats.failed}, dead {stats.dead}"
        )
    return summary


def start_scheduler(env: Any) -> Any:
    """APScheduler 3 in-process, memory job store rebuilt at start (explicit ids, replace_existing)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    tz = env.settings.tz  # cron times (the digest's 08:30) are local in the configured zone
    scheduler = BackgroundScheduler(
        timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    )

    def runner(name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                log.info("job %s: %s", name, run_job(name, env, env.clock(), deliver=False))
                env.worker.notify()
            except Exception:
                log.exception("job %s failed", name)

        return run

    for entry in JOBS:
        for trigger in entry.triggers(env.config):
            aps = (
                IntervalTrigger(seconds=trigger.seconds)
                if isinstance(trigger, Every)
                else CronTrigger(hour=trigger.hour, minute=trigger.minute)
            )
            scheduler.add_job(runner(entry.name), aps, id=trigger.id or entry.name, replace_existing=True)
    scheduler.start()
    if any(entry.name == "segments" for entry in JOBS):
        threading.Thread(
            target=_segments_catch_up(env, runner("segments")), name="segments-catch-up", daemon=True
        ).start()
    return scheduler


def _segments_catch_up(env: Any, run: Callable[[], None]) -> Callable[[], None]:
    """A server that was down at 02:00 recomputes the segments once when it starts (not on every start)."""

    def check() -> None:
        from schedulers.segments import missed

        try:
            if missed(env, env.clock()):
                run()
        except Exception:
            log.exception("segments catch-up failed")

    return check
