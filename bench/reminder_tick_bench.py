"""Reminder tick at scale: 10k vs 1M reminder rows with 500 due, on PostgreSQL.

    python bench/reminder_tick_bench.py [--small 10000] [--large 1000000] [--due 500]

Fills `reminders` with generate_series (fast), ANALYZEs, then times the claim query of one tick (the
candidates: status='open' AND notified_at IS NULL AND due_at <= now, served by ix_reminders_due, plus the
conditional UPDATE … RETURNING that claims them), rolled back so every repetition sees the same 500.
Target (issue 10): one tick at 1M < 100 ms, and tick(1M) < 2 × tick(10k).
Env: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_rel; its schema is reset).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import reset_database  # noqa: E402
from sqlalchemy import select, text, update  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from models import Reminder  # noqa: E402
from models.db import make_session_factory  # noqa: E402

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def reset(url: str) -> Engine:
    return reset_database(url)


def fill(engine: Engine, rows: int, due: int) -> None:
    """`rows` reminders: `due` open and due; the rest done, or open in the future (the realistic mix)."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE reminders RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                """
                INSERT INTO reminders (owner_userid, title, due_at, status, source, notified_late, snooze_count, created_at)
                SELECT 'rep' || (g % 1000), '回访客户 ' || g,
                       CASE WHEN g <= :due THEN :now - (g || ' minutes')::interval
                            WHEN g % 3 = 0 THEN :now + ((g % 90 + 1) || ' days')::interval
                            ELSE :now - ((g % 400) || ' days')::interval END,
                       CASE WHEN g <= :due OR g % 3 = 0 THEN 'open' ELSE 'done' END,
                       'manual', false, 0, :now - interval '500 days'
                FROM generate_series(1, :rows) AS g
                """
            ),
            {"rows": rows, "due": due, "now": NOW},
        )
        conn.execute(text("UPDATE reminders SET notified_at = due_at WHERE status = 'done'"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE reminders"))


def tick_ms(engine: Engine, repeats: int) -> tuple[float, int]:
    factory = make_session_factory(engine)
    timings: list[float] = []
    claimed = 0
    for _ in range(repeats):
        with factory() as session:
            started = time.perf_counter()
            ids = list(
                session.scalars(
                    select(Reminder.id)
                    .where(Reminder.status == "open", Reminder.notified_at.is_(None), Reminder.due_at <= NOW)
                    .order_by(Reminder.due_at)
                    .limit(1000)
                    .with_for_update(skip_locked=True)
                )
            )
            got = session.execute(
                update(Reminder)
                .where(Reminder.id.in_(ids), Reminder.notified_at.is_(None))
                .values(notified_at=NOW)
                .returning(Reminder.id)
            ).all()
            timings.append((time.perf_counter() - started) * 1000)
            claimed = len(got)
            session.rollback()
    return statistics.median(timings), claimed


def explain(engine: Engine) -> str:
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN SELECT id FROM reminders WHERE status='open' AND notified_at IS NULL AND due_at <= :now "
                "ORDER BY due_at LIMIT 1000"
            ),
            {"now": NOW},
        ).scalars()
        return "\n".join(f"    {line}" for line in plan)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_rel"),
    )
    args = parser.parse_args()
    engine = reset(args.database_url)
    results = {}
    for rows in (args.small, args.large):
        started = time.perf_counter()
        fill(engine, rows, args.due)
        fill_s = time.perf_counter() - started
        ms, claimed = tick_ms(engine, args.repeats)
        results[rows] = ms
        print(
            f"{rows:>9,} rows (filled in {fill_s:.1f}s): one tick claims {claimed} in {ms:.1f} ms (median of {args.repeats})"
        )
    print("plan at the large size:\n" + explain(engine))
    ratio = results[args.large] / results[args.small]
    checks = [
        (
            f"tick at {args.large:,} rows {results[args.large]:.1f} ms (target < 100 ms)",
            results[args.large] < 100,
        ),
        (f"ratio {ratio:.2f} (target < 2.0)", ratio < 2.0),
    ]
    for label, ok in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}")
    engine.dispose()
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
