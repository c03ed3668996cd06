"""A scratch PostgreSQL database for a benchmark: created if missing, emptied, migrated."""

from __future__ import annotations

import subprocess

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from models.db import make_engine, upgrade_schema


def reset_database(url: str, *, migrate: bool = True) -> Engine:
    """Drop and recreate the `public` schema of the database at `url` (never point it at real data)."""
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", make_url(url).database], capture_output=True
    )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    if migrate:
        upgrade_schema(engine)
    return engine
