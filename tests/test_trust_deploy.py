"""Issue 16 #17: replicas starting together on an empty PostgreSQL both come up; compose restarts them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text

from models.db import make_engine, upgrade_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "h16_migration_race"


def test_case17_every_compose_service_restarts_unless_stopped() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    assert {name: svc.get("restart") for name, svc in services.items()} == dict.fromkeys(
        services, "unless-stopped"
    )


def test_case17_two_replicas_migrate_an_empty_database_at_once(pg_db: tuple[str, Engine]) -> None:
    url, engine = pg_db
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engines = [make_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"}) for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(replica: Engine) -> None:
        barrier.wait()
        try:
            upgrade_schema(replica)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        with engines[0].connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
            assert conn.scalar(text("SELECT count(*) FROM users")) == 0
    finally:
        for e in engines:
            e.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


@pytest.fixture(autouse=True)
def _quiet_alembic(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="alembic")
