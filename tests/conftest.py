"""Fixtures. SQLite by default; PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set (CI sets them)."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from models import Base
from models.db import make_engine, upgrade_schema
from tests.fixtures_wecom import fake_wecom, wecom_client  # noqa: F401  (fixtures)
from tests.harness import Bot, FrozenClock, make_bot, seed_org

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    """No test talks to the real network: only loopback and unix sockets."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise RuntimeError(f"test tried to reach the network: {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | None]:
    if not PG_URL:
        yield None
        return
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade_schema(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(tmp_path: Path, _sqlite_template: Path, _pg_engine: Engine | None) -> Iterator[tuple[str, Engine]]:
    """(database_url, engine) for a fresh, migrated, empty database."""
    if _pg_engine is not None:
        _truncate(_pg_engine)
        yield PG_URL or "", _pg_engine
        _truncate(_pg_engine)
        return
    path = tmp_path / "salesbot.db"
    shutil.copy(_sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def pg_db(_pg_engine: Engine | None) -> Iterator[tuple[str, Engine]]:
    """PostgreSQL only: concurrency and claim tests (reliability.md [PG])."""
    if _pg_engine is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    _truncate(_pg_engine)
    yield PG_URL or "", _pg_engine
    _truncate(_pg_engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def bare_bot(db: tuple[str, Engine], clock: FrozenClock) -> Iterator[Bot]:
    """A bot with an empty org chart."""
    url, engine = db
    bot = make_bot(url, engine, clock=clock)
    yield bot
    bot.client.close()


@pytest.fixture
def bot(bare_bot: Bot) -> Bot:
    """A bot with the test org chart of tests/harness.py (两个区域: 华东, 华南)."""
    with bare_bot.session() as session, session.begin():
        seed_org(session)
    return bare_bot


@pytest.fixture
def mbot(db: tuple[str, Engine], clock: FrozenClock, tmp_path: Path) -> Iterator[Bot]:
    """Like `bot`, with visit photos saved under the test's own folder."""
    url, engine = db
    bot = make_bot(url, engine, clock=clock, salesbot_media_dir=tmp_path / "media")
    with bot.session() as s, s.begin():
        seed_org(s)
    yield bot
    bot.client.close()
