"""The one list of jobs: name, function, when it runs, and what it does. The scheduler, `salesbot jobs run`
(and its help) and the demo's job buttons all read `JOBS`; a job is added here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schedulers import (
    approvals,
    collections,
    digest,
    leads,
    outbox,
    pool,
    reminders,
    retention,
    segments,
    targets,
)
from schedulers.base import JobFn
from services.config import BusinessConfig


@dataclass(frozen=True)
class Every:
    seconds: int
    id: str | None = None  # the scheduler's job id; the job's name when None


@dataclass(frozen=True)
class DailyAt:
    hour: int
    minute: int
    id: str | None = None


Trigger = Every | DailyAt


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    triggers: Callable[[BusinessConfig], tuple[Trigger, ...]]
    help: str
    in_demo: bool = True  # offered as a button in the simulator


def _collections_triggers(config: BusinessConfig) -> tuple[Trigger, ...]:
    """Daily a few minutes after the digest (inside its send window), and every 30 minutes as a catch-up:
    each notice is claimed once, so the reruns send nothing twice."""
    send = config.digest.send_time
    minute = send.hour * 60 + send.minute + 4
    return (
        DailyAt(minute // 60 % 24, minute % 60, id="collections"),
        Every(30 * 60, id="collections_catchup"),
    )


def _digest_triggers(config: BusinessConfig) -> tuple[Trigger, ...]:
    send = config.digest.send_time  # time + jitter_minutes, validated off :00/:30
    # Catch-up after downtime: the digest job itself skips people already served today and stops at noon.
    return (DailyAt(send.hour, send.minute), Every(15 * 60, id="digest_catchup"))


JOBS: tuple[Job, ...] = (
    Job("outbox", outbox.deliver_outbox, lambda _: (Every(30),), "重新投递未送达的消息", in_demo=False),
    Job("reminders", reminders.run, lambda _: (Every(60),), "推送到期的跟进提醒"),
    Job("approvals", approvals.run, lambda _: (Every(10 * 60),), "审批超时提醒与升级"),
    Job("digest", digest.run, _digest_triggers, "早间销售日报"),
    Job("segments", segments.run, lambda _: (DailyAt(2, 3),), "夜间客户分层"),
    Job(
        "retention",
        retention.run,
        lambda _: (DailyAt(3, 17),),
        "清理已处理的消息记录（保留死信）",
        in_demo=False,
    ),
    Job("targets", targets.run, lambda _: (DailyAt(9, 17),), "目标进度提醒（过半、达成、月末进度）"),
    Job("leads", leads.run, lambda _: (Every(5 * 60),), "线索超时提醒与改派"),
    # Releases and countdown cards before the working day (not at night: they are pushes).
    Job("pool", pool.run, lambda _: (DailyAt(7, 53),), "公海回收与回收倒计时"),
    Job("collections", collections.run, _collections_triggers, "回款催收阶梯"),
)


def by_name(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def names() -> list[str]:
    return [job.name for job in JOBS]
