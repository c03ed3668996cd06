"""Reads done once for a worker's whole batch instead of once per message.

A worker handles a batch of messages from different users in one transaction (bot/dispatcher.py). Before
the handlers run, a router's preloader (`Router.preload`) may read, with one query for every sender in the
batch, what its handler would otherwise read per message (the senders' recent visits, their pending photos
and locations). It files the answer per sender here; the service that needs it `take`s its sender's entry
(once: a second read in the same transaction queries again) and falls back to its own query when there is
no entry (a message outside a batch, a command reached through a dialog).

Only data keyed by the sender belongs here: in one batch each user has at most one message, so nothing else
in the batch writes it. The dispatcher drops everything left when the batch's transaction ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

KEY = "salesbot.preloaded"


def put(session: Session, name: str, entries: dict[Any, Any]) -> None:
    """File `entries` (key → value) under `name` for this session's transaction."""
    session.info.setdefault(KEY, {})[name] = entries


def take(session: Session, name: str, key: Any) -> tuple[bool, Any]:
    """(True, value) once for a filed entry, else (False, None): the caller reads it itself."""
    table = session.info.get(KEY, {}).get(name)
    if table is None or key not in table:
        return False, None
    return True, table.pop(key)


def clear(session: Session) -> None:
    session.info.pop(KEY, None)
