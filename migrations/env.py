"""Alembic environment: runs on the connection handed in by models.db.upgrade_schema (or DATABASE_URL)."""

from __future__ import annotations

import os

from alembic import context

from models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from models.db import make_engine

    engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///./data/salesbot.db"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
