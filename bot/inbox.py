"""Claiming accepted messages: a batch of several users' oldest messages, exactly once, in per-user order.

One statement claims the batch: the oldest 'received' message of each user that has no earlier
'received' one, locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL and marked 'done' in the transaction
that handles it. Why this gives the guarantees across any number of worker processes:

- exactly once: a claimed row is locked until its transaction ends; another worker skips it (SKIP
  LOCKED), or, if that transaction committed meanwhile, re-checks `status = 'received'` and drops it;
  a rolled-back transaction leaves it 'received' for the next claim.
- per-user order: a user's next message is a candidate only once no earlier message of theirs is
  'received' in the committed state, i.e. after the earlier one's handling has committed. While it is
  being handled it is still 'received' to everyone else, so the next one waits.
- users in parallel: heads of different users are different rows; each worker takes the ones not locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, bindparam, exists, literal_column, select, update
from sqlalchemy.orm import Session

from models import InboundEvent, InboundStatus

_table: Table = InboundEvent.__table__  # type: ignore[assignment]
_earlier = _table.alias("earlier")
_later = _table.alias("later")
# A literal, not a parameter: a prepared statement's generic plan can then still use the partial index.
RECEIVED: ColumnElement[str] = literal_column(f"'{InboundStatus.RECEIVED.value}'")


@dataclass(frozen=True)
class Claimed:
    id: int
    userid: str
    payload: dict[str, Any]
    received_at: datetime
    has_next: bool = False  # the same user has a later 'received' message, claimable once this commits


def claim_statement(dialect: str = "postgresql") -> Update:
    """Parameters: `limit`, `processed_at`. The NOT EXISTS (an earlier message of the user) and the
    `has_next` EXISTS (a later one) are index probes (ix_inbound_received_user).

    PostgreSQL: the locking SELECT is a MATERIALIZED CTE, evaluated once (an `IN (subquery … LIMIT … FOR
    UPDATE)` may be rescanned per outer row). SQLite (single process, no row locks): `IN (subquery)`, so the
    statement starts with UPDATE and pysqlite opens the transaction before it (it does not for `WITH …`).
    """
    heads = (
        select(_table.c.id)
        .where(_table.c.status == RECEIVED)
        .where(
            ~exists().where(
                _earlier.c.userid == _table.c.userid,
                _earlier.c.status == RECEIVED,
                _earlier.c.id < _table.c.id,
            )
        )
        .order_by(_table.c.id)
        .limit(bindparam("limit"))
    )
    claim = update(_table).values(status=InboundStatus.DONE, processed_at=bindparam("processed_at"))
    if dialect == "postgresql":
        cte = heads.with_for_update(of=_table, skip_locked=True).cte("heads").prefix_with("MATERIALIZED")
        claim = claim.where(_table.c.id == cte.c.id, _table.c.status == RECEIVED)
    else:
        claim = claim.where(_table.c.id.in_(heads.scalar_subquery()), _table.c.status == RECEIVED)
    # Per claimed row: does its user have a later message waiting? Then the worker claims again right after
    # its commit (that message's notification is spent); otherwise it waits for the next notification.
    has_next = (
        exists()
        .where(_later.c.userid == _table.c.userid, _later.c.status == RECEIVED, _later.c.id > _table.c.id)
        .label("has_next")
    )
    return claim.returning(_table.c.id, _table.c.userid, _table.c.payload, _table.c.received_at, has_next)


_CLAIMS = {name: claim_statement(name) for name in ("postgresql", "sqlite")}

# The same heads, read without claiming: what the next claim will most likely take (bot/dispatcher.py asks
# the optional model about them before the transaction).
_PEEK = (
    select(_table.c.id, _table.c.payload, _table.c.received_at)
    .where(_table.c.status == RECEIVED)
    .where(
        ~exists().where(
            _earlier.c.userid == _table.c.userid, _earlier.c.status == RECEIVED, _earlier.c.id < _table.c.id
        )
    )
    .order_by(_table.c.id)
    .limit(bindparam("limit"))
)


def peek_heads(connection: Any, *, limit: int) -> list[tuple[int, dict[str, Any], datetime]]:
    return [(row[0], row[1], row[2]) for row in connection.execute(_PEEK, {"limit": limit})]


def claim_batch(session: Session, *, limit: int, now: datetime) -> list[Claimed]:
    """Claim up to `limit` messages, at most one per user, oldest first (in the caller's transaction)."""
    connection = session.connection()
    rows = connection.execute(_CLAIMS[connection.dialect.name], {"limit": limit, "processed_at": now})
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)
