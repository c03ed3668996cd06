"""reliability.md D30: the in-process schedule — no overlapping runs, and restarts never multiply jobs."""

from __future__ import annotations

import threading

from schedulers import start_scheduler
from tests.harness import Bot


def _join_catch_up() -> None:
    for thread in threading.enumerate():
        if thread.name == "segments-catch-up":
            thread.join(timeout=30)


def test_d30_restarting_three_times_leaves_the_same_jobs_and_no_overlap(bot: Bot) -> None:
    seen: list[list[str]] = []
    for _ in range(3):
        scheduler = start_scheduler(bot.state)
        try:
            jobs = scheduler.get_jobs()
            seen.append(sorted(job.id for job in jobs))
            for job in jobs:
                assert job.max_instances == 1  # a slow tick makes the next one skip, never overlap
                assert job.coalesce is True  # missed ticks run once
                assert job.misfire_grace_time >= 60  # a busy minute does not drop a tick
        finally:
            scheduler.shutdown(wait=False)
            _join_catch_up()
    assert seen[0] == seen[1] == seen[2]
    assert {"reminders", "approvals", "digest", "digest_catchup", "segments", "outbox"} <= set(seen[0])


def test_d30_digest_fires_off_the_hour_and_half_hour(bot: Bot) -> None:
    scheduler = start_scheduler(bot.state)
    try:
        trigger = scheduler.get_job("digest").trigger
        fields = {f.name: str(f) for f in trigger.fields}
        assert int(fields["minute"]) % 30 != 0  # WeCom asks senders to avoid :00 and :30
    finally:
        scheduler.shutdown(wait=False)
        _join_catch_up()
