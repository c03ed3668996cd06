"""The outbox in batches: one statement writes, claims, rate-checks or marks sent a whole batch of rows.

A worker that handles a batch of messages writes all their replies with one INSERT, already claimed for
itself (status 'sending' under a lease), and sends them right after the commit: no second claim round
trip. A row whose worker dies keeps its lease and is swept back to 'pending' by any deliverer once the
lease runs out (then WeCom's duplicate check hides the re-send, bot/outbox.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, Update, and_, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from chat.outbox import payloads_for
from chat.replies import Reply
from models import OutboxMessage, OutboxStatus
from models.db import insert_for

LEASE = timedelta(seconds=60)
RATE_PAUSE_S = 60.0

_table: Table = OutboxMessage.__table__  # type: ignore[assignment]
_COLUMNS = (
    _table.c.id,
    _table.c.dedup_key,
    _table.c.recipient,
    _table.c.kind,
    _table.c.payload,
    _table.c.attempts,
    _table.c.created_at,
)


@dataclass(frozen=True)
class OutRow:
    """A claimed outbox row, carried in memory from the claim to the send (no re-read)."""

    id: int
    dedup_key: str
    recipient: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def _row(values: Any) -> OutRow:
    return OutRow(*values)


def reply_rows(reply: Reply, *, recipient: str, dedup_key: str) -> list[dict[str, Any]]:
    """The outbox rows of one reply (several when a long text is split), keyed like chat.outbox.enqueue."""
    rows = payloads_for(reply)
    return [
        {
            "dedup_key": (dedup_key if len(rows) == 1 else f"{dedup_key}#{index + 1}")[:512],
            "recipient": recipient,
            "kind": kind,
            "payload": payload,
        }
        for index, (kind, payload) in enumerate(rows)
    ]


def replies_rows(
    replies: Iterable[Reply], *, default_recipient: str, key_prefix: str
) -> list[dict[str, Any]]:
    """A message's replies as rows, keyed `{prefix}:{index}` like chat.outbox.enqueue_all."""
    rows: list[dict[str, Any]] = []
    for index, reply in enumerate(replies):
        rows += reply_rows(reply, recipient=reply.to or default_recipient, dedup_key=f"{key_prefix}:{index}")
    return rows


def insert_rows(session: Session, rows: list[dict[str, Any]], *, now: datetime, claim: bool) -> list[OutRow]:
    """Write `rows` (dedup_key, recipient, kind, payload) in one statement; a key that exists is skipped.

    `claim`: the rows are born 'sending' under this process's lease, for a send right after the commit.
    Returns the rows actually written.
    """
    if not rows:
        return []
    values = [
        {
            **row,
            "status": OutboxStatus.SENDING if claim else OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": now + LEASE if claim else None,
            "created_at": now,
        }
        for row in rows
    ]
    statement = (
        insert_for(session)(_table).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(*_COLUMNS)
    )
    # Core executemany with RETURNING: SQLAlchemy sends it as one multi-row INSERT (insertmanyvalues).
    written = [_row(r) for r in session.connection().execute(statement, values)]
    return sorted(written, key=lambda r: r.id)


def claim_statement(*, now: datetime, limit: int, dialect: str = "postgresql") -> Update:
    """Due rows moved to 'sending' in one statement. PostgreSQL: the inner SELECT locks with SKIP LOCKED in a
    MATERIALIZED CTE (evaluated once), so concurrent deliverers never wait on each other nor share a row.
    SQLite (single process): `IN (subquery)`, so the statement starts with UPDATE and pysqlite opens the
    transaction before it."""
    due = (
        select(_table.c.id)
        .where(_table.c.status == OutboxStatus.PENDING, _table.c.next_attempt_at <= now)
        .order_by(_table.c.id)
        .limit(limit)
    )
    claim = update(_table).values(status=OutboxStatus.SENDING, lease_until=now + LEASE)
    if dialect == "postgresql":
        cte = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        claim = claim.where(_table.c.id == cte.c.id, _table.c.status == OutboxStatus.PENDING)
    else:
        claim = claim.where(_table.c.id.in_(due.scalar_subquery()), _table.c.status == OutboxStatus.PENDING)
    return claim.returning(*_COLUMNS)


def claim_rows(session: Session, *, now: datetime, limit: int) -> list[OutRow]:
    connection = session.connection()
    found = connection.execute(claim_statement(now=now, limit=limit, dialect=connection.dialect.name))
    return sorted((_row(r) for r in found), key=lambda r: r.id)


def recent_sends(session: Session, recipients: set[str], *, now: datetime) -> dict[str, tuple[int, int]]:
    """Per recipient: messages sent in the last minute and in the last hour, in one grouped query."""
    if not recipients:
        return {}
    minute = now - timedelta(minutes=1)
    query = (
        select(
            _table.c.recipient,
            func.count().filter(_table.c.sent_at > minute),
            func.count(),
        )
        .where(
            _table.c.recipient.in_(sorted(recipients)),
            _table.c.status == OutboxStatus.SENT,
            _table.c.sent_at > now - timedelta(hours=1),
        )
        .group_by(_table.c.recipient)
    )
    return {recipient: (int(m), int(h)) for recipient, m, h in session.connection().execute(query)}


def within_limits(
    rows: list[OutRow], counts: dict[str, tuple[int, int]], *, per_minute: int, per_hour: int
) -> tuple[list[OutRow], list[OutRow]]:
    """(rows to send now, rows to defer): each recipient's sends so far plus this batch's, in id order."""
    used = {recipient: list(pair) for recipient, pair in counts.items()}
    send: list[OutRow] = []
    defer: list[OutRow] = []
    for row in rows:
        minute, hour = used.setdefault(row.recipient, [0, 0])
        if minute >= per_minute or hour >= per_hour:
            defer.append(row)
            continue
        used[row.recipient] = [minute + 1, hour + 1]
        send.append(row)
    return send, defer


def defer_rows(session: Session, ids: list[int], *, now: datetime) -> None:
    """Rows over a member's rate limit go back to 'pending' for a minute (not an attempt, not an error)."""
    if ids:
        session.connection().execute(
            update(_table)
            .where(_table.c.id.in_(ids))
            .values(
                status=OutboxStatus.PENDING,
                next_attempt_at=now + timedelta(seconds=RATE_PAUSE_S),
                lease_until=None,
            )
        )


def mark_sent(session: Session, sent: dict[int, str | None], *, now: datetime) -> None:
    """One UPDATE for a batch of delivered rows; a card's response code is kept per row."""
    if not sent:
        return
    codes = {row_id: code for row_id, code in sent.items() if code}
    response_code: Any = (
        case(codes, value=_table.c.id, else_=_table.c.response_code) if codes else _table.c.response_code
    )
    session.connection().execute(
        update(_table)
        .where(and_(_table.c.id.in_(list(sent)), _table.c.status == OutboxStatus.SENDING))
        .values(
            status=OutboxStatus.SENT,
            sent_at=bindparam("sent_now", now),
            lease_until=None,
            attempts=_table.c.attempts + 1,
            response_code=response_code,
        )
    )


class PendingMarks:
    """Rows sent but not yet marked 'sent': written by the next transaction this process opens anyway.

    Until then a row stays 'sending' under its lease; a crash in between means a re-send after the lease,
    which WeCom's duplicate check hides (the same window as a crash between send and mark).
    """

    def __init__(self) -> None:
        self.codes: dict[int, str | None] = {}
        self.since: datetime | None = None
        self._written: dict[int, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.codes)

    def add(self, row_id: int, code: str | None, now: datetime) -> None:
        self.codes[row_id] = code
        self.since = now if self.since is None else min(self.since, now)

    def flush_into(self, session: Session) -> None:
        """Write the marks in `session`'s transaction; call `committed()` once it has committed."""
        if self.codes and self.since is not None:
            mark_sent(session, self.codes, now=self.since)
            self._written = dict(self.codes)

    def committed(self) -> None:
        for row_id in self._written:
            self.codes.pop(row_id, None)
        self._written = {}
        if not self.codes:
            self.since = None
