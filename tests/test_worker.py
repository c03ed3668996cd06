"""The worker tier (issue 17): batches of several users' messages, exactly once, one user's in order, few
round trips. SQLite and PostgreSQL (TEST_DATABASE_URL); the concurrency and budget tests are PostgreSQL only."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from bot.crypto import signature
from bot.dispatcher import Dispatcher
from bot.worker import Worker
from chat.handle import INTERNAL_ERROR
from chat.inbound import Inbound
from chat.replies import Text
from chat.router import Ctx, Router, RouteTable
from models import Customer, InboundEvent, InboundStatus, OutboxMessage, Visit
from services.org import import_org
from tests.harness import AGENT_ID, CORP_ID, TOKEN, Bot, make_bot, seed_org

REPS = ["rep_e1", "rep_e2", "rep_s1"]


def accept_only(bot: Bot, userid: str, content: str) -> None:
    """A real encrypted callback through the request path, without handling it (the web tier's part)."""
    encrypted = bot.crypto.encrypt(bot.text_xml(userid, content))
    ts, nonce = str(int(bot.clock().timestamp())), secrets.token_hex(6)
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    )
    query = urlencode(
        {"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    )
    assert bot.client.post(f"/wecom/callback?{query}", content=body.encode()).status_code == 200


def add_customers(bot: Bot, owners: list[str]) -> None:
    now = bot.clock()
    with bot.session() as s, s.begin():
        for i, owner in enumerate(owners):
            s.add(
                Customer(
                    name="华东精密",
                    name_norm="华东精密",
                    region="华东",
                    owner_userid=owner,
                    contact="王工",
                    phone=f"1380000{i:04d}",
                    phone_norm=f"1380000{i:04d}",
                    custom={},
                    created_at=now,
                    updated_at=now,
                )
            )


def worker_for(bot: Bot, **kw: Any) -> Worker:
    return Worker(dispatcher=bot.state.dispatcher, deliverer=bot.state.deliverer, clock=bot.clock, **kw)


def _statuses(bot: Bot, model: Any) -> list[str]:
    with bot.session() as s:
        return list(s.scalars(select(model.status).order_by(model.id)))


def test_one_round_handles_several_users_and_delivers_each_reply_once(bot: Bot) -> None:
    add_customers(bot, REPS)
    for rep in REPS:
        accept_only(bot, rep, f"拜访 华东精密 {rep} 面谈")
    worker = worker_for(bot)
    assert worker.handle_round() == 3  # one transaction for the three users
    for rep in REPS:
        cards = [m for m in bot.wecom.messages_for(rep) if m.get("msgtype") == "template_card"]
        assert len(cards) == 1, rep
    assert _statuses(bot, InboundEvent) == ["done"] * 3
    assert _statuses(bot, OutboxMessage) == ["sending"] * 3  # sent; the mark rides on the next transaction
    assert worker.run_once() == 0
    assert _statuses(bot, OutboxMessage) == ["sent"] * 3
    assert len(bot.wecom.calls_to("message/send")) == 3  # nothing sent twice by the poll
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 3


def test_one_users_messages_are_handled_one_batch_at_a_time_in_order(bot: Bot) -> None:
    for n in range(3):
        accept_only(bot, "rep_e1", f"未知命令{n}")
    accept_only(bot, "rep_e2", "帮助")
    batch = bot.state.dispatcher.handle_batch(limit=32)
    assert batch.handled == 2  # rep_e1's first and rep_e2's: never two of one user in one batch
    with bot.session() as s:
        waiting = list(
            s.scalars(
                select(InboundEvent.payload)
                .where(InboundEvent.status == InboundStatus.RECEIVED)
                .order_by(InboundEvent.id)
            )
        )
    assert [p["content"] for p in waiting] == ["未知命令1", "未知命令2"]
    assert bot.state.dispatcher.handle_batch(limit=32).handled == 1
    assert bot.state.dispatcher.handle_batch(limit=32).handled == 1
    assert bot.state.dispatcher.handle_batch(limit=32).handled == 0


def test_a_failing_handler_rolls_back_only_its_own_message(bot: Bot) -> None:
    add_customers(bot, ["rep_e1", "rep_e2"])
    router = Router("test")

    runs: list[str] = []

    @router.command("炸", help="", example="")
    def boom(msg: Inbound, ctx: Ctx) -> None:
        runs.append(ctx.userid)
        ctx.session.add(
            Visit(customer_id=1, userid=ctx.userid, summary="不应保存", visited_at=ctx.now, photo_count=0)
        )
        ctx.session.flush()
        raise RuntimeError("handler bug")

    from handlers import build_routes

    routes = build_routes()
    dispatcher = bot.state.dispatcher
    dispatcher.routes = RouteTable([router, *routes.routers])
    dispatcher._words = dispatcher.routes.command_words()
    accept_only(bot, "rep_e1", "炸")
    accept_only(bot, "rep_e2", "拜访 华东精密 面谈")
    assert dispatcher.handle_batch(limit=32).handled == 2
    bot.state.deliverer.drain(now=bot.clock())
    assert bot.wecom.messages_for("rep_e1")[-1]["text"]["content"] == INTERNAL_ERROR
    with bot.session() as s:
        assert list(s.scalars(select(Visit.userid))) == ["rep_e2"]  # the other user's visit kept
    # Without a savepoint first; it wrote before failing, so the batch was rolled back and handled again isolated.
    assert runs == ["rep_e1", "rep_e1"]


def test_a_user_mistake_before_any_write_costs_no_savepoint_and_no_second_pass(bot: Bot) -> None:
    add_customers(bot, ["rep_e2"])
    statements: list[str] = []
    engine = bot.state.engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    accept_only(bot, "rep_e1", "拜访")  # usage error: no customer, no summary
    accept_only(bot, "rep_e2", "拜访 华东精密 面谈")
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert bot.state.dispatcher.handle_batch(limit=32).handled == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not [s for s in statements if s.upper().startswith(("SAVEPOINT", "ROLLBACK TO", "RELEASE"))]
    assert sum(1 for s in statements if "UPDATE inbound_events" in s) == 1  # claimed once: no second pass
    bot.state.deliverer.drain(now=bot.clock())
    assert "拜访" in bot.wecom.messages_for("rep_e1")[-1]["text"]["content"]  # the usage answer
    with bot.session() as s:
        assert list(s.scalars(select(Visit.userid))) == ["rep_e2"]


def test_org_import_between_batches_takes_effect_on_the_next_message(bot: Bot, tmp_path: Path) -> None:
    add_customers(bot, ["rep_e1"])
    accept_only(bot, "rep_e1", "拜访 华东精密 第一次")
    assert bot.state.dispatcher.handle_batch(limit=32).handled == 1
    sheet = tmp_path / "org.csv"
    sheet.write_text(
        "userid,name,role,region,manager\nboss,王总,director,,\nrep_e1,张伟,finance,,boss\n", encoding="utf-8"
    )
    with bot.session() as s, s.begin():
        import_org(s, path=sheet, now=datetime.now(UTC))
    accept_only(bot, "rep_e1", "拜访 华东精密 第二次")
    assert bot.state.dispatcher.handle_batch(limit=32).handled == 1
    bot.state.deliverer.drain(now=bot.clock())
    assert (
        "只有" in bot.wecom.messages_for("rep_e1")[-1]["text"]["content"]
    )  # the role from the import, not a cache
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 1


def test_a_batch_of_visits_reads_media_and_recent_visits_once_and_each_sender_gets_their_own(
    bot: Bot,
) -> None:
    """chat/preloaded.py: one query per batch for the senders' pending media and recent visits; each visit
    still gets exactly its own sender's location and repeat check, as if handled alone."""
    add_customers(bot, REPS)
    bot.send_location("rep_e1", 31.23, 121.47, "上海浦东")
    bot.send_text("rep_e2", "拜访 华东精密 面谈 聊了新产线报价")  # recorded: the same words again repeat it
    bot.deliver()
    bot.clock.advance(minutes=2)
    for rep in REPS:
        accept_only(bot, rep, "拜访 华东精密 面谈 聊了新产线报价")
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(bot.state.engine, "before_cursor_execute", count)
    try:
        assert worker_for(bot).handle_round() == 3
    finally:
        event.remove(bot.state.engine, "before_cursor_execute", count)
    assert sum("FROM pending_media" in s for s in reads) == 1
    assert sum("FROM visits" in s for s in reads) == 1
    with bot.session() as s:
        visits = {v.userid: v for v in s.scalars(select(Visit).order_by(Visit.id))}
        located = s.scalars(select(Visit).where(Visit.userid == "rep_e1")).one()
        assert located.location_label == "上海浦东"  # rep_e1's own location, and only theirs
        assert s.scalars(select(Visit).where(Visit.userid == "rep_s1")).one().location_label is None
        assert len(list(s.scalars(select(Visit).where(Visit.userid == "rep_e2")))) == 1  # asked, not stored
    assert set(visits) == set(REPS)
    assert "再记一次" in str(bot.cards("rep_e2")[-1])


def test_rate_limit_defers_inline_replies_over_the_members_minute(bot: Bot) -> None:
    bot.state.deliverer.per_minute = 2
    bot.wecom.per_member_per_minute = None
    worker = worker_for(bot)
    for n in range(4):
        accept_only(bot, "rep_e1", f"未知{n}")
    assert worker.run_once() == 4
    with bot.session() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows] == ["sent", "sent", "pending", "pending"]
    assert len(bot.wecom.messages_for("rep_e1")) == 2


# --- PostgreSQL: several workers, statement and transaction budget -----------------------------------


def _pg_bot(pg_db: tuple[str, Engine]) -> Bot:
    url, engine = pg_db
    bot = make_bot(url, engine)
    with bot.session() as s, s.begin():
        seed_org(s)
    return bot


def test_pg_four_workers_handle_each_message_once_one_user_at_a_time_in_order(
    pg_db: tuple[str, Engine],
) -> None:
    bot = _pg_bot(pg_db)
    users = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "sup_south", "boss"]
    spans: dict[str, list[tuple[int, float, float]]] = {u: [] for u in users}
    lock = threading.Lock()
    router = Router("record")

    @router.fallback()
    def record(msg: Inbound, ctx: Ctx) -> Text:
        started = time.monotonic()
        time.sleep(0.01)
        with lock:
            spans[ctx.userid].append((int(msg.content), started, time.monotonic()))
        return Text(f"收到 {msg.content}")

    for n in range(5):
        for user in users:
            accept_only(bot, user, str(n))
    state = bot.state
    workers = [
        Worker(
            dispatcher=Dispatcher(
                session_factory=state.session_factory,
                settings=state.settings,
                config=state.config,
                routes=RouteTable([router]),
                clock=bot.clock,
                services=state.dispatcher.services,
            ),
            deliverer=state.deliverer,
            clock=bot.clock,
            batch=4,
        )
        for _ in range(4)
    ]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(worker: Worker) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(30):
                worker.run_once()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    everyone = sorted((s for user in users for s in spans[user]), key=lambda s: s[1])
    for user in users:
        seqs = [n for n, _, _ in spans[user]]
        assert seqs == [0, 1, 2, 3, 4], (user, seqs)  # each once, in order
        for (_, _, end), (_, start, _) in zip(spans[user], spans[user][1:], strict=False):
            assert start >= end  # never two of one user at the same time
        texts = [m["text"]["content"] for m in bot.wecom.messages_for(user)]
        assert texts == [f"收到 {n}" for n in range(5)], user  # replies delivered once, in order
    overlaps = sum(1 for a, b in zip(everyone, everyone[1:], strict=False) if b[1] < a[2])
    assert overlaps > 0  # different users did run at the same time


def test_pg_a_batch_of_visits_stays_within_two_transactions_and_twelve_statements(
    pg_db: tuple[str, Engine],
) -> None:
    """Counted by the engine from the callback to the delivered reply: the request path's INSERT, the
    handling transaction, and the 'sent' mark (folded into the worker's next transaction or its poll)."""
    bot = _pg_bot(pg_db)
    reps = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "sup_south", "boss", "admin"]
    add_customers(bot, reps)
    statements: list[str] = []
    commits: list[int] = []
    engine = bot.state.engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def committed(conn: Any) -> None:
        commits.append(1)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", committed)
    try:
        for rep in reps:
            accept_only(bot, rep, "拜访 华东精密 面谈 聊了新产线报价")
        worker = worker_for(bot, batch=32)
        assert worker.run_once() == len(reps)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "commit", committed)
    for rep in reps:
        assert len(bot.wecom.messages_for(rep)) == 1
    assert _statuses(bot, OutboxMessage) == ["sent"] * len(reps)
    per_message = len(statements) / len(reps)
    transactions = len(commits) / len(reps)
    assert per_message <= 12, (per_message, statements)
    assert transactions <= 2.0, transactions


# --- the commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["worker"], ["serve", "--no-worker"]])
def test_split_processes_on_sqlite_are_refused_in_chinese(
    argv: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for name, value in {"WECOM_CORP_ID": CORP_ID, "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": "a" * 43}.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "SQLite 模式只能单进程运行" in err and "salesbot serve" in err
    assert "Traceback" not in err


def test_worker_refuses_a_nonsense_batch_size(monkeypatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["worker", "--batch", "0"]) == 2
    assert "例：salesbot worker" in capsys.readouterr().err


def test_with_a_model_the_batch_is_understood_before_its_transaction(bot: Bot, monkeypatch) -> None:
    """bot/preunderstand.py: the model is asked for the batch's messages with no transaction open, and each
    answer reaches that message's handler (services["understood"])."""
    import bot.dispatcher as dispatcher_module

    asked: list[tuple[str, bool]] = []
    engine = bot.state.engine

    def fake_early(session_factory: Any, msg: Inbound, **kw: Any) -> tuple[str, Any]:
        asked.append((msg.content, engine.pool.checkedout() > 0))  # the peek's connection was returned
        return msg.content, f"意图:{msg.content}"

    monkeypatch.setattr(dispatcher_module, "understand_early", fake_early)
    seen: dict[str, Any] = {}
    router = Router("probe")

    @router.fallback()
    def probe(msg: Inbound, ctx: Ctx) -> Text:
        seen[ctx.userid] = ctx.services.get("understood")
        return Text("好")

    dispatcher = bot.state.dispatcher
    dispatcher.routes = RouteTable([router])
    dispatcher.services["understand_model"] = object()
    accept_only(bot, "rep_e1", "下周去华东精密")
    accept_only(bot, "rep_e2", "报价多少")
    assert dispatcher.handle_batch(limit=32).handled == 2
    assert sorted(text for text, _ in asked) == ["下周去华东精密", "报价多少"]
    assert not any(busy for _, busy in asked)
    assert seen == {
        "rep_e1": ("下周去华东精密", "意图:下周去华东精密"),
        "rep_e2": ("报价多少", "意图:报价多少"),
    }
