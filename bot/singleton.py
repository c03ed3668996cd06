"""SQLite mode is single-process: a second `serve` on the same database file is refused (reliability.md D31)."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

_held: list[IO[str]] = []


def acquire_sqlite_lock(database_url: str) -> bool:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return True
    lock_path = Path(database).with_suffix(".serve.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _held.append(handle)
    return True
