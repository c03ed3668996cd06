"""Callback intake under concurrency and faults (reliability.md §2 A2, A4–A7).

A1, A3, A8 and B9–B16 are in tests/test_callback_edge.py; the real-process replica test is in
tests/test_reliability_processes.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.app import build_state, create_app
from bot.kv import FallbackKV, make_kv
from demo.fake_wecom import FakeWeCom
from models import InboundEvent, OutboxMessage
from tests import harness
from tests.harness import Bot, FrozenClock, make_bot, seed_org
from tests.procs import free_port


def _count(bot: Bot, model: Any) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a2_retry_on_another_replica_while_the_first_is_still_processing(pg_db) -> None:
    """[PG] Replica one holds its dedup row uncommitted; the retry on replica two waits on the unique key,
    finds the row and answers 200 empty. One row, one reply, no IntegrityError."""
    url, engine = pg_db
    clock = FrozenClock()
    one = make_bot(url, engine, clock=clock)
    two = make_bot(url, engine, clock=clock)
    two.wecom = one.wecom
    with one.session() as s, s.begin():
        seed_org(s)
    original = one.state.dispatcher._route
    entered = threading.Event()

    def slow_route(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        time.sleep(1.0)  # "first handler paused" while the retry arrives
        return original(*args, **kwargs)

    one.state.dispatcher._route = slow_route  # type: ignore[method-assign]
    xml = one.text_xml("rep_e1", "帮助", msg_id=424242)
    results: dict[str, Any] = {}

    def first() -> None:
        results["one"] = one.post_plain(xml)

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(5)
    results["two"] = two.post_plain(xml)
    thread.join(10)
    assert results["one"].status_code == 200 and results["two"].status_code == 200
    assert results["two"].content == b""
    assert _count(one, InboundEvent) == 1
    assert _count(one, OutboxMessage) == 1
    assert len(one.texts("rep_e1")) == 1
    one.client.close()
    two.client.close()


def test_a4_fifty_concurrent_callbacks_are_acked_fast_without_calling_wecom(bot: Bot) -> None:
    users = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "sup_south"]
    xmls = [bot.text_xml(users[i % len(users)], "帮助") for i in range(50)]

    def post(xml: str) -> tuple[int, float]:
        started = time.perf_counter()
        response = bot.post_plain(xml)
        return response.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, xmls))
    assert [status for status, _ in results] == [200] * 50
    latencies = sorted(elapsed for _, elapsed in results)
    assert latencies[int(len(latencies) * 0.99) - 1] < 1.0
    assert bot.wecom.calls == []  # nothing on the request path talks to WeCom
    assert _count(bot, InboundEvent) == 50
    assert _count(bot, OutboxMessage) == 50
    bot.deliver()
    assert sum(len(bot.wecom.messages_for(u)) for u in users) == 50


def test_a5_wecom_hanging_does_not_slow_the_callbacks(db) -> None:
    url, engine = db
    bot = make_bot(url, engine, wecom_read_timeout=0.3, wecom_connect_timeout=0.3)
    with bot.session() as s, s.begin():
        seed_org(s)
    bot.wecom.hang(30, "message/send")
    bot.state.worker.interval = 0.05
    bot.state.worker.start()
    try:
        for _ in range(10):
            started = time.perf_counter()
            response = bot.post_plain(bot.text_xml("rep_e1", "帮助"))
            assert response.status_code == 200
            assert time.perf_counter() - started < 1.0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with bot.session() as s:
                if s.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 0)
                ):
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the outbox never gave up on the hung call")
    finally:
        bot.state.worker.stop()
    with bot.session() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.attempts > 0)).all()
        assert failed and all(row.status == "pending" and row.last_error for row in failed)
    bot.wecom.clear_failures()
    bot.clock.advance(hours=1)
    bot.deliver()
    assert len(bot.wecom.messages_for("rep_e1")) == 10
    bot.client.close()


def test_a6_database_unavailable_answers_503_then_exactly_one_effect(bot: Bot) -> None:
    dispatcher = bot.state.dispatcher
    working_factory, working_engine = dispatcher.session_factory, dispatcher.engine

    class Down:
        def __call__(self) -> Any:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

        def begin(self) -> Any:
            return self()

        def connect(self) -> Any:
            return self()

    xml = bot.text_xml("rep_e1", "帮助", msg_id=77001)
    dispatcher.session_factory = Down()  # type: ignore[assignment]
    dispatcher.engine = Down()  # type: ignore[assignment]
    try:
        for _ in range(2):
            response = bot.post_plain(xml)
            assert response.status_code == 503  # not 200: WeCom must retry
    finally:
        dispatcher.session_factory, dispatcher.engine = working_factory, working_engine
    assert _count(bot, InboundEvent) == 0
    for _ in range(2):  # WeCom's retries after the database is back
        response = bot.post_plain(xml)
        assert response.status_code == 200 and response.content == b""
    assert _count(bot, InboundEvent) == 1
    assert len(bot.texts("rep_e1")) == 1


def test_a7_redis_down_still_exactly_once_and_no_500s(db) -> None:
    url, engine = db
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    clock = FrozenClock()
    settings = harness.bot_settings(url, redis_url=closed)
    wecom = FakeWeCom(
        corp_id=settings.wecom_corp_id, secret=settings.wecom_secret, agent_id=settings.wecom_agent_id
    )
    kv = make_kv(closed)
    assert isinstance(kv, FallbackKV)
    state = build_state(
        settings, clock=clock, engine=engine, wecom_transport=wecom.transport(), kv=kv, migrate=False
    )
    bot = Bot(
        state=state,
        client=TestClient(create_app(settings, state=state, run_worker=False)),
        wecom=wecom,
        clock=clock,
    )
    with bot.session() as s, s.begin():
        seed_org(s)
    xml = bot.text_xml("rep_e1", "帮助", msg_id=88001)
    for _ in range(4):
        response = bot.post_plain(xml)
        assert response.status_code == 200 and response.content == b""
    bot.send_text("rep_e2", "帮助")
    assert _count(bot, InboundEvent) == 2
    assert len(bot.texts("rep_e1")) == 1  # the token came through the in-process fallback
    assert len(bot.texts("rep_e2")) == 1
    assert len(wecom.calls_to("gettoken")) == 1
    health = bot.client.get("/healthz")
    assert health.status_code == 200 and health.json()["redis"] == "down"
    bot.client.close()
