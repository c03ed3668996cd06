"""A6 and A7 with real servers stopped and started: a private PostgreSQL cluster and a private Redis.

Both run on loopback ports of their own (never the shared servers), are bounded in time and always stopped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import build_state, create_app
from bot.kv import make_kv
from demo.fake_wecom import FakeWeCom
from models import InboundEvent
from models.db import make_engine, upgrade_schema
from tests import harness
from tests.harness import Bot, FrozenClock, make_bot, seed_org
from tests.procs import free_port, wait_for

pytestmark = pytest.mark.slow

PG_BIN = sorted(glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(*args: str) -> None:
    # No pipes: a started server would hold them open; its output goes to the cluster's log file.
    command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


class PrivatePostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="salesbot-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.bin = PG_BIN[-1]
        _as_postgres(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"'-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off'"
        _as_postgres(
            f"{self.bin}/pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        _as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", f"{self.bin}/pg_ctl -D {self.data} -m immediate stop"],
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not PG_BIN or os.geteuid() != 0 or shutil.which("su") is None:
        pytest.skip("needs PostgreSQL binaries and root (to run them as the postgres user)")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def _count(bot: Bot) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(InboundEvent)) or 0


def test_a6_real_postgres_stopped_answers_503_then_after_restart_exactly_one_effect() -> None:
    with private_postgres() as server:
        engine = make_engine(server.url)
        upgrade_schema(engine)
        bot = make_bot(server.url, engine, clock=FrozenClock())
        with bot.session() as s, s.begin():
            seed_org(s)
        try:
            bot.send_text("rep_e1", "帮助")
            xml = bot.text_xml("rep_e1", "待办", msg_id=660001)
            server.stop()
            assert bot.post_plain(xml).status_code == 503  # the database is down: WeCom must retry
            server.start()
            for _ in range(3):  # WeCom's retries once the database is back
                response = bot.post_plain(xml)
                assert response.status_code == 200 and response.content == b""
            assert _count(bot) == 2
            assert len(bot.texts("rep_e1")) == 2  # 帮助 and one answer to 待办
        finally:
            bot.client.close()
            engine.dispose()


@contextmanager
def private_redis() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = free_port()
    cmd = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port, proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a7_real_redis_stopped_mid_run_still_exactly_once_and_no_500s(db) -> None:
    url, engine = db
    with private_redis() as (port, proc):
        redis_url = f"redis://127.0.0.1:{port}/0"
        kv = make_kv(redis_url)
        wait_for(kv.ping, timeout=10, what="redis up")
        clock = FrozenClock()
        settings = harness.bot_settings(url, redis_url=redis_url)
        wecom = FakeWeCom(
            corp_id=settings.wecom_corp_id, secret=settings.wecom_secret, agent_id=settings.wecom_agent_id
        )
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
        try:
            bot.send_text("rep_e1", "帮助")
            assert bot.client.get("/healthz").json()["redis"] == "ok"
            proc.kill()
            proc.wait(timeout=10)
            xml = bot.text_xml("rep_e2", "帮助", msg_id=770001)
            for _ in range(4):
                response = bot.post_plain(xml)
                assert response.status_code == 200 and response.content == b""
            assert _count(bot) == 2
            assert len(bot.texts("rep_e1")) == 1 and len(bot.texts("rep_e2")) == 1
            health = bot.client.get("/healthz")
            assert health.status_code == 200 and health.json()["redis"] == "down"
        finally:
            bot.client.close()
