"""The reliability scenarios with workers as separate processes (issue 17): `serve --no-worker` replicas only
acknowledge, `salesbot worker` processes handle and deliver. PostgreSQL + Redis; each test bounded, marked slow."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from chat.outbox import enqueue
from chat.replies import Text
from models import Customer, InboundEvent, OutboxMessage, Visit
from models.db import make_session_factory
from tests.harness import AGENT_ID, CORP_ID, TOKEN, seed_org
from tests.procs import (
    FakeWeComServer,
    ServeProcess,
    WorkerProcess,
    build_callback,
    running,
    salesbot_command,
    text_xml,
    wait_for,
)
from tests.test_reliability_processes import _crypto, _env, _fake, _post

pytestmark = pytest.mark.slow

_ids = itertools.count(int(time.time() * 1000) * 10 + 7_000_000)
VISITORS = ["rep_e1", "rep_e2", "rep_s1"]  # reps: each owns a 华东精密, so 拜访 answers with a visit card


def _redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def _seed(engine: Engine, *, customers: bool = False) -> Any:
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        seed_org(session)
        session.flush()
        for i, owner in enumerate(VISITORS if customers else []):
            session.add(
                Customer(
                    name="华东精密",
                    name_norm="华东精密",
                    region="华东",
                    owner_userid=owner,
                    contact="王工",
                    phone=f"1390000{i:04d}",
                    phone_norm=f"1390000{i:04d}",
                    custom={},
                    created_at=now,
                    updated_at=now,
                )
            )
    return factory


def _callback(userid: str, content: str) -> tuple[str, bytes]:
    return build_callback(
        _crypto(), TOKEN, CORP_ID, AGENT_ID, text_xml(CORP_ID, AGENT_ID, userid, content, next(_ids))
    )


def _start_all(*procs: Any) -> None:
    for proc in procs:
        proc.spawn()
    for proc in procs:
        wait_for(proc.healthy, timeout=60, what=f"{proc.log_path.name}")


def test_two_ack_replicas_and_two_workers_handle_and_deliver_each_callback_once(
    pg_db, tmp_path: Path
) -> None:
    redis_url = _redis_url()
    url, engine = pg_db
    factory = _seed(engine)
    server = FakeWeComServer(_fake()).start()
    env = _env(url, server.url, redis_url)
    web = [ServeProcess(env, args=("--no-scheduler", "--no-worker"), log_dir=tmp_path) for _ in range(2)]
    workers = [WorkerProcess(env, log_dir=tmp_path) for _ in range(2)]
    with running(server, *web, *workers):
        _start_all(*web, *workers)
        users = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "boss"]
        statuses: list[int] = []
        for userid in users:
            query, body = _callback(userid, "帮助")
            barrier = threading.Barrier(2)

            def fire(
                target: str, query: str = query, body: bytes = body, barrier: threading.Barrier = barrier
            ) -> None:
                barrier.wait(timeout=5)
                statuses.append(_post(target, query, body).status_code)

            threads = [threading.Thread(target=fire, args=(w.url,)) for w in web]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=10)
        assert statuses == [200] * (2 * len(users))
        fake = server.fake
        wait_for(
            lambda: all(fake.messages_for(u) for u in users),
            timeout=30,
            what="replies delivered by the workers",
        )
        time.sleep(1.0)  # a duplicate, if there were one, would arrive too
        for userid in users:
            assert len(fake.messages_for(userid)) == 1, userid
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(InboundEvent)) == len(users)
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == len(users)
        wait_for(lambda: _all_sent(factory), timeout=10, what="rows marked sent")
        assert fake.dropped == []


def _all_sent(factory: Any) -> bool:
    with factory() as session:
        return set(session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_sigkill_a_worker_after_wecom_accepted_the_send_the_user_sees_it_once(pg_db, tmp_path: Path) -> None:
    redis_url = _redis_url()
    url, engine = pg_db
    factory = _seed(engine)
    server = FakeWeComServer(_fake()).start()
    env = _env(url, server.url, redis_url)
    web = ServeProcess(env, args=("--no-scheduler", "--no-worker"), log_dir=tmp_path)
    worker = WorkerProcess(env, log_dir=tmp_path)
    with running(server, web, worker):
        _start_all(web, worker)
        server.hold_sends()
        query, body = _callback("rep_e1", "帮助")
        assert _post(web.url, query, body).status_code == 200
        wait_for(lambda: server.fake.messages_for("rep_e1"), timeout=20, what="WeCom to accept the send")
        worker.kill()
        server.hold_sends(False)
        with factory() as session:
            assert session.scalar(select(OutboxMessage.status)) == "sending"
            assert session.scalar(select(InboundEvent.status)) == "done"  # handled once, not again
        later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()  # after the lease
        result = subprocess.run(
            [*salesbot_command(), "jobs", "run", "outbox", "--now", later],
            env=web.env,
            cwd=web.env["PYTHONPATH"],
            capture_output=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        with factory() as session:
            assert session.scalar(select(OutboxMessage.status)) == "sent"
        assert len(server.fake.calls_to("message/send")) == 2  # really re-sent ...
        assert len(server.fake.messages_for("rep_e1")) == 1  # ... and seen once
        assert len(server.fake.suppressed_duplicates) == 1


def test_four_worker_processes_drain_a_backlog_once_each_and_in_each_users_order(
    pg_db, tmp_path: Path
) -> None:
    redis_url = _redis_url()
    url, engine = pg_db
    factory = _seed(engine, customers=True)
    fake = _fake()
    fake.per_member_per_minute = None
    server = FakeWeComServer(fake).start()
    env = _env(url, server.url, redis_url)
    web = ServeProcess(env, args=("--no-scheduler", "--no-worker"), log_dir=tmp_path)
    workers = [WorkerProcess(env, log_dir=tmp_path) for _ in range(4)]
    rounds = 6
    with running(server, web, *workers):
        _start_all(web)
        for n in range(rounds):  # the backlog: accepted, nobody handling yet
            for userid in VISITORS:
                assert _post(web.url, *_callback(userid, f"拜访 华东精密 第{n}次面谈")).status_code == 200
        now = datetime.now(UTC)
        with factory() as session, session.begin():  # and a job's messages waiting in the outbox
            for i in range(12):
                enqueue(
                    session, reply=Text(f"提醒 {i}"), recipient=VISITORS[i % 3], dedup_key=f"job:{i}", now=now
                )
        _start_all(*workers)  # four processes at once
        expected = rounds * len(VISITORS) + 12
        wait_for(lambda: len(fake.calls_to("message/send")) >= expected, timeout=90, what="every reply sent")
        time.sleep(1.0)
        assert len(fake.calls_to("message/send")) == expected  # nothing twice
        for userid in VISITORS:
            cards = [
                json.dumps(m, ensure_ascii=False)
                for m in fake.messages_for(userid)
                if m.get("msgtype") == "template_card"
            ]
            assert sorted(next(n for n in range(rounds) if f"第{n}次面谈" in c) for c in cards) == list(
                range(rounds)
            )
            with (
                factory() as session
            ):  # handled one at a time, in the order sent: visit ids follow the messages
                summaries = list(
                    session.scalars(select(Visit.summary).where(Visit.userid == userid).order_by(Visit.id))
                )
            assert summaries == [f"第{n}次面谈" for n in range(rounds)], (userid, summaries)
        reminders = sorted(
            m["text"]["content"] for u in VISITORS for m in fake.messages_for(u) if m.get("msgtype") == "text"
        )
        assert reminders == sorted(f"提醒 {i}" for i in range(12))
        wait_for(lambda: _all_sent(factory), timeout=10, what="rows marked sent")
        with factory() as session:
            assert set(session.scalars(select(InboundEvent.status))) == {"done"}
