"""The outbox and delivery under WeCom faults, crashes and concurrency (reliability.md §2 C19–C26, D27, D32).

The client-level halves of C18–C23 are in tests/test_wecom_client.py; a real SIGKILL is in
tests/test_reliability_processes.py. Concurrency tests run with 4 threads; on PostgreSQL (TEST_DATABASE_URL)
they exercise `FOR UPDATE SKIP LOCKED`, on SQLite the conditional UPDATE.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from bot import outbox
from bot.kv import MemoryKV
from bot.outbox import BACKOFF_CAP_S, backoff_delay
from bot.outbox_batch import claim_statement
from chat.outbox import enqueue
from chat.replies import Card, Text
from models import InboundEvent, JobOccurrence, OutboxMessage
from services.outbox_admin import list_dead, redrive
from services.parsing import SHANGHAI
from tests.harness import Bot


def _rows(bot: Bot) -> list[OutboxMessage]:
    with bot.session() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def _follow_frozen_clock(bot: Bot) -> None:
    """The fake (per-member limit, token expiry), the client and its token cache and gettoken budget all
    run on the bot's frozen clock, so moving it moves all of them."""

    def now() -> float:
        return bot.clock().timestamp()

    bot.wecom.clock = now
    bot.state.wecom._clock = now
    bot.state.wecom._kv = MemoryKV(clock=now)


def _sends_to(bot: Bot, userid: str) -> list[Any]:
    return [c for c in bot.wecom.calls_to("message/send") if c.json and c.json.get("touser") == userid]


# --- C21: WeCom unreachable for a while -----------------------------------------------------------------


def test_c21_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(7)
    for attempts in range(1, 9):
        ceiling = min(BACKOFF_CAP_S, 2.0 * 2**attempts)
        samples = [backoff_delay(attempts, rng=rng) for _ in range(200)]
        assert all(1.0 <= d <= ceiling for d in samples)
        assert len({round(d, 3) for d in samples}) > 100  # jitter: replicas do not retry in lock-step
        assert max(samples) > ceiling * 0.8  # and the ceiling really doubles
    assert max(backoff_delay(40, rng=rng) for _ in range(500)) <= BACKOFF_CAP_S


def test_c21_wecom_down_for_half_an_hour_loses_nothing_and_sends_each_once(bot: Bot) -> None:
    _follow_frozen_clock(bot)
    bot.wecom.fail_always(-1, "message/send")
    users = ["rep_e1", "rep_e2", "sup_east"]
    for userid in users:
        bot.send_text(userid, "帮助")
    with bot.session() as s:  # the effects are committed with their outbox rows, before any send
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 3
    attempted_at: dict[int, list[datetime]] = {}
    for _ in range(30 * 6):  # 30 minutes in 10-second steps
        bot.deliver()
        for row in _rows(bot):
            times = attempted_at.setdefault(row.id, [])
            if row.attempts > len(times):
                times.append(bot.clock())
        bot.clock.advance(seconds=10)
    rows = _rows(bot)
    assert [r.status for r in rows] == ["pending"] * 3  # nothing dead-lettered, nothing lost
    for times in attempted_at.values():
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert len(times) >= 5
        assert all(gap <= BACKOFF_CAP_S + 10 for gap in gaps)
    gap_sets = {
        tuple((b - a).total_seconds() for a, b in zip(t, t[1:], strict=False)) for t in attempted_at.values()
    }
    assert len(gap_sets) == 3  # jittered: the three rows did not retry in lock-step
    assert all(m == [] for m in (bot.wecom.messages_for(u) for u in users))

    bot.wecom.clear_failures()  # WeCom is back
    bot.clock.advance(seconds=BACKOFF_CAP_S)
    bot.deliver()
    bot.clock.advance(hours=2)
    bot.deliver()
    for userid in users:
        assert len(bot.wecom.messages_for(userid)) == 1
    assert {r.status for r in _rows(bot)} == {"sent"}


def test_c19_token_errors_forever_dead_letter_with_an_admin_alert_and_redrive(bot: Bot) -> None:
    _follow_frozen_clock(bot)
    bot.send_text("rep_e1", "帮助")
    bot.wecom.fail_always(40014)
    for _ in range(40):
        bot.deliver()
        bot.clock.advance(minutes=10)
    rows = _rows(bot)
    dead = [r for r in rows if r.recipient == "rep_e1"]
    assert [r.status for r in dead] == ["dead"]
    assert dead[0].last_errcode in (40001, 40014, 42001)
    gettoken_times = [c.at for c in bot.wecom.calls_to("gettoken")]
    assert len(gettoken_times) <= sum(r.attempts for r in rows) + 1  # at most one refresh per send attempt
    assert all(b - a >= 10 for a, b in zip(gettoken_times, gettoken_times[1:], strict=False))
    alerts = [r for r in rows if r.recipient == "admin"]
    assert len(alerts) == 1 and "死信" in alerts[0].payload["text"]["content"]
    with bot.session() as s, s.begin():
        assert any(str(dead[0].id) in line for line in list_dead(s, tz=SHANGHAI))
        assert redrive(s, ids=[dead[0].id], now=bot.clock()) == 1
        # The alert went through the same broken WeCom: it is a dead letter too (and did not alert again).
        assert redrive(s, ids=None, now=bot.clock()) == 1
    bot.wecom.clear_failures()
    bot.clock.advance(minutes=1)
    bot.deliver()
    assert len(bot.wecom.messages_for("rep_e1")) == 1
    assert len(bot.wecom.messages_for("admin")) == 1  # the alert, once


def test_c22_rate_limit_pauses_that_row_only(bot: Bot) -> None:
    _follow_frozen_clock(bot)
    bot.send_text("rep_e1", "帮助")
    bot.send_text("rep_e2", "帮助")
    bot.wecom.fail_next(45009, "message/send")
    now = bot.clock()
    bot.deliver()
    rows = {r.recipient: r for r in _rows(bot)}
    assert rows["rep_e1"].status == "pending" and rows["rep_e1"].next_attempt_at >= now + timedelta(
        seconds=60
    )
    assert rows["rep_e2"].status == "sent"
    assert len(bot.wecom.calls_to("message/send")) == 2  # no hot retry loop


def test_c23_permanent_error_is_not_retried_and_is_visible(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    bot.wecom.fail_next(81013, "message/send")
    bot.deliver()
    bot.clock.advance(hours=3)
    bot.deliver()
    (row,) = _rows(bot)
    assert row.status == "failed" and row.last_errcode == 81013 and row.attempts == 1
    with bot.session() as s:
        assert "错误码 81013" in list_dead(s, tz=SHANGHAI)[0]


# --- C24: crash after WeCom accepted, before the row was marked sent ------------------------------------


class Crash(BaseException):
    """Stands for SIGKILL: nothing after the send runs, no `except Exception` catches it."""


class CrashAfterSend:
    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, touser: str, msg: Any) -> Any:
        self.client.send(touser, msg)
        raise Crash

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _crash_then_restart(bot: Bot) -> None:
    deliverer = bot.state.deliverer
    real = deliverer.client
    deliverer.client = CrashAfterSend(real)
    with pytest.raises(Crash):
        deliverer.run_once(now=bot.clock())
    deliverer.client = real
    assert [r.status for r in _rows(bot)] == ["sending"]
    bot.deliver()  # the lease has not run out: nobody re-sends yet
    assert [r.status for r in _rows(bot)] == ["sending"]
    bot.clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    bot.deliver()


def test_c24_text_resent_after_a_crash_is_seen_once(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    _crash_then_restart(bot)
    assert [r.status for r in _rows(bot)] == ["sent"]
    assert len(_sends_to(bot, "rep_e1")) == 2
    assert len(bot.wecom.messages_for("rep_e1")) == 1
    assert len(bot.wecom.suppressed_duplicates) == 1


def test_c24_card_resent_after_a_crash_counts_as_delivered_via_42014(bot: Bot) -> None:
    card = {
        "card_type": "button_interaction",
        "task_id": "c24-task-1",
        "main_title": {"title": "报价审批"},
        "button_list": [{"text": "同意", "key": "v1:noop"}],
    }
    with bot.session() as s, s.begin():
        enqueue(s, reply=Card(card), recipient="sup_east", dedup_key="c24:card", now=bot.clock())
    _crash_then_restart(bot)
    (row,) = _rows(bot)
    assert row.status == "sent"
    assert len(_sends_to(bot, "sup_east")) == 2
    assert len(bot.cards("sup_east")) == 1


def test_legitimate_repeats_are_not_swallowed_by_the_duplicate_check(bot: Bot) -> None:
    """帮助 twice within the hour gets two answers (each row has its own duplicate-check interval)."""
    bot.send_text("rep_e1", "帮助")
    bot.send_text("rep_e1", "帮助")
    assert len(bot.texts("rep_e1")) == 2


# --- C25: an expired lease is re-claimed ----------------------------------------------------------------


def test_c25_a_row_left_sending_is_reclaimed_once_its_lease_expires(bot: Bot) -> None:
    now = bot.clock()
    with bot.session() as s, s.begin():
        enqueue(s, reply=Text("租约测试"), recipient="rep_e1", dedup_key="c25", now=now)
        row = s.scalar(select(OutboxMessage))
        assert row is not None
        row.status, row.lease_until = "sending", now + timedelta(seconds=30)
    bot.deliver()
    assert bot.wecom.messages_for("rep_e1") == []  # still leased by the (dead) holder
    bot.clock.advance(seconds=31)
    bot.deliver()
    bot.clock.advance(minutes=5)
    bot.deliver()
    assert [m["text"]["content"] for m in bot.wecom.messages_for("rep_e1")] == ["租约测试"]
    assert [r.status for r in _rows(bot)] == ["sent"]


# --- C26: never more than 30 messages a minute to one member ---------------------------------------------


def test_c26_a_burst_to_one_member_is_throttled_to_30_per_minute(bot: Bot) -> None:
    _follow_frozen_clock(bot)
    now = bot.clock()
    with bot.session() as s, s.begin():
        for i in range(45):
            enqueue(s, reply=Text(f"提醒 {i + 1}"), recipient="rep_e1", dedup_key=f"burst:{i}", now=now)
    per_minute: list[int] = []
    for _ in range(4):
        before = len(_sends_to(bot, "rep_e1"))
        bot.deliver()
        per_minute.append(len(_sends_to(bot, "rep_e1")) - before)
        bot.clock.advance(seconds=61)
    assert max(per_minute) <= 30
    assert sum(per_minute) == 45
    assert bot.wecom.dropped == []  # WeCom never had to drop anything silently
    assert len(bot.wecom.messages_for("rep_e1")) == 45


# --- D27/D32: claims across replicas -------------------------------------------------------------------


def test_d32_claim_query_compiles_to_for_update_skip_locked_on_postgresql() -> None:
    statement = claim_statement(now=datetime(2026, 11, 27), limit=10)
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE SKIP LOCKED" in sql
    assert "status" in sql and "LIMIT" in sql and "RETURNING" in sql
    # SQLite (single process) has no row locks; its form starts with UPDATE so pysqlite opens the transaction.
    on_sqlite = str(
        claim_statement(now=datetime(2026, 11, 27), limit=10, dialect="sqlite").compile(
            dialect=sqlite.dialect()
        )
    )
    assert "FOR UPDATE" not in on_sqlite and on_sqlite.startswith("UPDATE")


def test_d27_four_concurrent_deliverers_send_each_of_20_messages_once(bot: Bot) -> None:
    _follow_frozen_clock(bot)
    bot.wecom.per_member_per_minute = None
    users = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "sup_south"]
    now = bot.clock()
    with bot.session() as s, s.begin():
        for i in range(20):
            enqueue(s, reply=Text(f"提醒 #{i}"), recipient=users[i % 5], dedup_key=f"d27:{i}", now=now)
    deliverer = bot.state.deliverer
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(10):
                deliverer.run_once(now=now, limit=3)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(bot.wecom.calls_to("message/send")) == 20
    assert sorted(m["text"]["content"] for u in users for m in bot.wecom.messages_for(u)) == sorted(
        f"提醒 #{i}" for i in range(20)
    )
    assert {(r.status, r.attempts) for r in _rows(bot)} == {("sent", 1)}


def test_d27_an_occurrence_is_claimed_once_by_four_concurrent_ticks(bot: Bot) -> None:
    """The generic "once per (job, occurrence)" mark that digest/reminder jobs use across replicas."""
    barrier = threading.Barrier(4)
    winners: list[int] = []
    lock = threading.Lock()
    now = bot.clock()

    def tick() -> None:
        barrier.wait(timeout=10)
        with bot.session() as s, s.begin():
            insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
            got = s.execute(
                insert(JobOccurrence)
                .values(job="digest", occurrence="boss:2026-11-27", created_at=now)
                .on_conflict_do_nothing(index_elements=["job", "occurrence"])
                .returning(JobOccurrence.id)
            ).scalar()
            if got is not None:
                enqueue(s, reply=Text("早报"), recipient="boss", dedup_key="digest:boss:2026-11-27", now=now)
                with lock:
                    winners.append(got)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(winners) == 1
    bot.deliver()
    assert len(bot.wecom.messages_for("boss")) == 1
