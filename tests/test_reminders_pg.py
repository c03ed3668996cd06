"""[PG] Concurrent reminder ticks (reliability.md D27, D32): each due reminder is claimed and sent exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from chat.settings import Settings
from models import CardTask, OutboxMessage, Push, Reminder
from models.db import make_session_factory
from schedulers.reminders import tick
from services import reminder_escalation, reminder_tick
from services.config import BusinessConfig
from tests import reminders_factory as f

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def test_pg_claims_compile_with_skip_locked() -> None:
    for query in (
        reminder_tick.due_candidates(now=NOW, limit=10, postgres=True),
        reminder_escalation.escalation_candidates(now=NOW, after_hours=24, limit=10, postgres=True),
    ):
        assert "FOR UPDATE SKIP LOCKED" in str(query.compile(dialect=postgresql.dialect()))
    # SQLite silently drops the clause; there the conditional UPDATE alone carries exactly-once.
    assert "FOR UPDATE" not in str(
        reminder_tick.due_candidates(now=NOW, limit=10, postgres=False).compile(dialect=sqlite.dialect())
    )


@dataclass
class _Env:
    session_factory: Any
    config: BusinessConfig
    settings: Settings = field(default_factory=lambda: Settings(_env_file=None))  # type: ignore[call-arg]
    deliverer: Any = None


def _seed(engine: Engine, count: int) -> None:
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        c = f.customer(s)
        for i in range(count):
            f.reminder(s, c, due_at=NOW - timedelta(minutes=i % 3), title=f"事项{i}")


def _run_threads(n: int, target: Any) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_pg_concurrent_claims_never_overlap(pg_db: tuple[str, Engine]) -> None:
    _, engine = pg_db
    _seed(engine, 20)
    factory = make_session_factory(engine)
    claimed: list[list[int]] = [[] for _ in range(4)]

    def worker(index: int) -> None:
        while True:
            with factory() as s, s.begin():
                rows = reminder_tick.claim_due(s, now=NOW, limit=3)
                claimed[index].extend(r.id for r in rows)
            if not rows:
                return

    assert _run_threads(4, worker) == []
    everything = [rid for ids in claimed for rid in ids]
    assert len(everything) == 20 and len(set(everything)) == 20, Counter(everything)


def test_pg_four_concurrent_ticks_send_each_reminder_once(pg_db: tuple[str, Engine]) -> None:
    _, engine = pg_db
    _seed(engine, 20)
    env = _Env(session_factory=make_session_factory(engine), config=BusinessConfig())
    results: list[tuple[int, int, int]] = []

    def worker(index: int) -> None:
        for _ in range(3):  # each replica ticks repeatedly, too
            results.append(tick(env, NOW, batch=4))

    assert _run_threads(4, worker) == []
    assert sum(sent for sent, _, _ in results) == 20
    with env.session_factory() as s:
        # Every reminder is one event in the push ledger, exactly once across the four "replicas"...
        keys = s.scalars(select(Push.dedup_key).where(Push.dedup_key.like("reminder:%"))).all()
        assert len(keys) == 20 and len(set(keys)) == 20
        # ...and the owner's daily budget held under the race: follow-ups use at most slots 1-4, each once.
        slots = s.scalars(select(Push.slot).where(Push.slot.is_not(None))).all()
        assert sorted(slots) == list(range(1, len(slots) + 1)) and len(slots) <= 4
        sent = s.scalars(
            select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like("push:reminder:%"))
        ).all()
        assert len(sent) == len(slots)
        assert s.scalar(select(func.count()).select_from(CardTask).where(CardTask.kind == "reminder")) == 20
        assert s.scalar(select(func.count()).select_from(Reminder).where(Reminder.notified_at.is_(None))) == 0


def test_pg_concurrent_escalations_once(pg_db: tuple[str, Engine]) -> None:
    _, engine = pg_db
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        from sqlalchemy import update

        from tests.harness import seed_org

        seed_org(s)
        c = f.customer(s)
        for i in range(10):
            f.reminder(s, c, due_at=NOW - timedelta(hours=30), title=f"事项{i}")
        s.execute(update(Reminder).values(notified_at=NOW - timedelta(hours=30)))
    env = _Env(session_factory=factory, config=BusinessConfig())
    results: list[tuple[int, int, int]] = []
    assert _run_threads(4, lambda i: results.append(tick(env, NOW, batch=3))) == []
    assert sum(e for _, _, e in results) == 10
    with factory() as s:
        # Each overdue reminder is in exactly one team escalation (one card per run and supervisor).
        keys = s.scalars(
            select(Push.dedup_key).where(
                Push.dedup_key.like("reminder-escalate:%"), Push.recipient == "sup_east"
            )
        ).all()
        ids = [int(i) for key in keys for i in key.split(":", 1)[1].split("-")]
        assert sorted(ids) == sorted(set(ids)) and len(ids) == 10
        slots = s.scalars(select(Push.slot).where(Push.recipient == "sup_east", Push.slot.is_not(None))).all()
        assert len(slots) == len(set(slots)) <= 4
