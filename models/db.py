"""Engine and session factory; schema upgrades through Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK_KEY = 0x5A1E5B07  # the PostgreSQL advisory lock every `upgrade_schema` takes first


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with SQLite in WAL mode and a busy timeout, or a pooled PostgreSQL connection."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("hide_parameters", True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    # A failed statement's values (a customer's phone, a note) never reach a log or an error message.
    kwargs.setdefault("hide_parameters", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema up to date (every `salesbot` command does this by itself)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together on an empty database: one migrates, the others wait here and then
            # find the schema at head (issue 16 #17). Released with the transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and session factory for `url`, the schema brought up to date (what every CLI command does)."""
    engine = make_engine(url)
    upgrade_schema(engine)
    return engine, make_session_factory(engine)


def affected(result: Any) -> int:
    """Rows an UPDATE/DELETE matched (`Session.execute` is typed as returning a plain `Result`)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def insert_for(target: Any) -> Any:
    """The dialect's `insert` (PostgreSQL or SQLite), for `on_conflict_do_nothing` on either database.

    `target` is a Session or a Connection.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    bind = target.get_bind() if hasattr(target, "get_bind") else target
    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert


def is_postgres(session: Session) -> bool:
    """True when `session` talks to PostgreSQL (row locks such as FOR UPDATE SKIP LOCKED apply there only)."""
    return session.get_bind().dialect.name == "postgresql"
