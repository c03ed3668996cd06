"""Operator views of the outbox: list dead letters, re-drive them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import OutboxMessage


def list_dead(session: Session) -> list[str]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(["dead", "failed"])).order_by(OutboxMessage.id)
    )
    return [
        f"{r.id}\t{r.status}\t{r.recipient}\t{r.kind}\terrcode={r.last_errcode}\tattempts={r.attempts}\t{r.created_at:%Y-%m-%d %H:%M}"
        for r in rows
    ]


def redrive(session: Session, *, ids: Iterable[int] | None, now: datetime) -> int:
    stmt = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids:
        stmt = stmt.where(OutboxMessage.id.in_(list(ids)))
    result = session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=now, lease_until=None))
    return result.rowcount or 0
