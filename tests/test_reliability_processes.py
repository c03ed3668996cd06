"""Real `salesbot` processes on loopback (reliability.md A2/D replicas, C24 SIGKILL, D31 SQLite single-process).

Each test is bounded (≤ 30 s) and stops everything it started in `finally`. Marked `slow`.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.crypto import CallbackCrypto
from demo.fake_wecom import FakeWeCom
from models import InboundEvent, OutboxMessage
from models.db import make_engine, make_session_factory, upgrade_schema
from tests.harness import AES_KEY, AGENT_ID, CORP_ID, TOKEN, seed_org
from tests.procs import (
    FakeWeComServer,
    ServeProcess,
    build_callback,
    running,
    salesbot_command,
    text_xml,
    wait_for,
)

pytestmark = pytest.mark.slow

SECRET = "proc-test-secret-0123456789"
_ids = itertools.count(int(time.time() * 1000) * 10)


def _env(database_url: str, api_base: str, redis_url: str = "") -> dict[str, str]:
    return {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE": api_base,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SALESBOT_LOG_LEVEL": "WARNING",
    }


def _fake() -> FakeWeCom:
    return FakeWeCom(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET)


def _crypto() -> CallbackCrypto:
    return CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, window_s=300)


def _post(url: str, query: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{url}/wecom/callback?{query}", content=body, timeout=5)


def test_a2_two_replicas_receive_the_same_callbacks_at_the_same_moment(pg_db, tmp_path: Path) -> None:
    """Two `serve --no-scheduler` replicas on PostgreSQL + Redis, each callback posted to both at once."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    url, engine = pg_db
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        seed_org(session)
    server = FakeWeComServer(_fake()).start()
    env = _env(url, server.url, redis_url)
    one = ServeProcess(env, log_dir=tmp_path)
    two = ServeProcess(env, log_dir=tmp_path)
    with running(server, one, two):
        one.spawn()
        two.spawn()
        wait_for(one.healthy, timeout=20, what="replica one")
        wait_for(two.healthy, timeout=20, what="replica two")
        users = ["rep_e1", "rep_e2", "rep_s1", "sup_east", "boss"]
        crypto = _crypto()
        statuses: list[int] = []
        bodies: list[bytes] = []
        lock = threading.Lock()
        for userid in users:
            query, body = build_callback(
                crypto, TOKEN, CORP_ID, AGENT_ID, text_xml(CORP_ID, AGENT_ID, userid, "帮助", next(_ids))
            )
            barrier = threading.Barrier(2)

            def fire(
                target: str, query: str = query, body: bytes = body, barrier: threading.Barrier = barrier
            ) -> None:
                barrier.wait(timeout=5)
                response = _post(target, query, body)
                with lock:
                    statuses.append(response.status_code)
                    bodies.append(response.content)

            threads = [threading.Thread(target=fire, args=(replica.url,)) for replica in (one, two)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=10)
        assert statuses == [200] * (2 * len(users)), (statuses, one.log(), two.log())
        assert set(bodies) == {b""}
        fake = server.fake
        wait_for(lambda: all(fake.messages_for(u) for u in users), timeout=15, what="replies delivered")
        time.sleep(0.5)  # let a duplicate, if there were one, arrive too
        for userid in users:
            assert len(fake.messages_for(userid)) == 1, userid
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(InboundEvent)) == len(users)
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == len(users)
        assert fake.dropped == []


def _sqlite_with_org(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'salesbot.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    with make_session_factory(engine)() as session, session.begin():
        seed_org(session)
    engine.dispose()
    return url


def test_c24_sigkill_after_wecom_accepted_but_before_marking_sent(tmp_path: Path) -> None:
    """The send reaches WeCom, the process dies before recording it; a restart re-sends and WeCom's
    duplicate check keeps the user from seeing it twice."""
    url = _sqlite_with_org(tmp_path)
    server = FakeWeComServer(_fake()).start()
    serve = ServeProcess(_env(url, server.url), log_dir=tmp_path)
    with running(server, serve):
        server.hold_sends()
        serve.start()
        query, body = build_callback(
            _crypto(), TOKEN, CORP_ID, AGENT_ID, text_xml(CORP_ID, AGENT_ID, "rep_e1", "帮助", next(_ids))
        )
        assert _post(serve.url, query, body).status_code == 200
        wait_for(lambda: server.fake.messages_for("rep_e1"), timeout=10, what="WeCom to accept the send")
        serve.kill()
        server.hold_sends(False)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            assert session.scalar(select(OutboxMessage.status)) == "sending"
        # The restart: a fresh process after the lease ran out (clock moved by --now, not by sleeping).
        later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        result = subprocess.run(
            [*salesbot_command(), "jobs", "run", "outbox", "--now", later],
            env={**serve.env},
            cwd=serve.env["PYTHONPATH"],
            capture_output=True,
            timeout=20,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        with make_session_factory(engine)() as session:
            assert session.scalar(select(OutboxMessage.status)) == "sent"
        engine.dispose()
        assert len(server.fake.calls_to("message/send")) == 2  # really re-sent ...
        assert len(server.fake.messages_for("rep_e1")) == 1  # ... and seen once
        assert len(server.fake.suppressed_duplicates) == 1


def test_d31_second_serve_on_the_same_sqlite_file_refuses(tmp_path: Path) -> None:
    url = _sqlite_with_org(tmp_path)
    server = FakeWeComServer(_fake()).start()
    first = ServeProcess(_env(url, server.url), log_dir=tmp_path)
    second = ServeProcess(_env(url, server.url), log_dir=tmp_path)
    with running(server, first, second):
        first.start()
        second.spawn()
        assert second.proc is not None
        code = second.proc.wait(timeout=20)
        assert code == 2
        assert "SQLite 模式只能单进程运行" in second.log()
        assert first.healthy()
