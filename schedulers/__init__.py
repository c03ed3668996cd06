"""Scheduled jobs. Each opens a transaction, calls a service, enqueues replies; correctness comes from
database claims and unique keys, so every replica may run the schedule (APScheduler only says *when*)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from bot.settings import Settings
    from services.config import BusinessConfig

log = logging.getLogger("salesbot.jobs")


class JobEnv(Protocol):
    settings: Settings
    config: BusinessConfig
    session_factory: sessionmaker[Session]
    deliverer: Any


JobFn = Callable[[JobEnv, datetime], str]


def claim_occurrence(session: Session, *, job: str, occurrence: str, now: datetime) -> bool:
    """Mark one scheduled occurrence done; True only for the caller whose insert made the mark.

    The unique (job, occurrence) row is what makes "once per day" hold across reruns and replicas.
    """
    from models import JobOccurrence
    from models.db import insert_for

    insert = insert_for(session)
    inserted = session.execute(
        insert(JobOccurrence)
        .values(job=job, occurrence=occurrence, created_at=now)
        .on_conflict_do_nothing(index_elements=["job", "occurrence"])
        .returning(JobOccurrence.id)
    ).scalar()
    return inserted is not None  # rowcount is -1 on PostgreSQL for ON CONFLICT DO NOTHING
JOBS: dict[str, JobFn] = {}


def job(name: str) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        JOBS[name] = fn
        return fn

    return register


def load_jobs() -> dict[str, JobFn]:
    import importlib

    for module in ("schedulers.outbox", "schedulers.reminders", "schedulers.approvals", "schedulers.digest", "schedulers.segments"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return JOBS


def run_job(name: str, env: JobEnv, now: datetime, *, deliver: bool = True) -> str:
    """Run one job to completion as of `now`, including delivering what it enqueued."""
    jobs = load_jobs()
    if name not in jobs:
        raise KeyError(name)
    summary = jobs[name](env, now)
    if deliver and name != "outbox":
        stats = env.deliverer.drain(now=now)
        summary += f"; delivered {stats.sent}, retrying {stats.retried}, failed {stats.failed}, dead {stats.dead}"
    return summary


def start_scheduler(env: Any) -> Any:
    """APScheduler 3 in-process, memory job store rebuilt at start (explicit ids, replace_existing)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobs = load_jobs()
    tz = env.config.digest.timezone if hasattr(env.config, "digest") else "Asia/Shanghai"
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

    plan: dict[str, Any] = {
        "outbox": IntervalTrigger(seconds=30),
        "reminders": IntervalTrigger(minutes=1),
        "approvals": IntervalTrigger(minutes=10),
        "segments": CronTrigger(hour=2, minute=3),
    }
    if "digest" in jobs:
        send = env.config.digest.send_time  # time + jitter_minutes, validated off :00/:30
        plan["digest"] = CronTrigger(hour=send.hour, minute=send.minute)
        # Catch-up after downtime: the digest job itself skips people already served today.
        plan["digest_catchup"] = IntervalTrigger(minutes=15)
    for name, trigger in plan.items():
        target = "digest" if name == "digest_catchup" else name
        if target in jobs:
            scheduler.add_job(runner(target), trigger, id=name, replace_existing=True)
    scheduler.start()
    if "segments" in jobs:
        threading.Thread(target=_segments_catch_up(env, runner("segments")), name="segments-catch-up", daemon=True).start()
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
