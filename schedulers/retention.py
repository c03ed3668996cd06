"""`jobs run retention` (daily): prune handled inbound events and delivered outbox rows after N days.

Inbound rows exist to deduplicate WeCom's retries (seconds to minutes) and outbox rows to deliver exactly once;
after delivery neither is needed, and kept forever they grow without bound (issue 16). Rows still in work —
inbound not yet handled, outbox pending, sending, failed or dead — are never touched: a dead letter stays
until an operator re-drives it (`salesbot outbox redrive`), after which it is delivered and ages out.
`SALESBOT_RETENTION_DAYS` (default 30) sets the period. Deletes run in small batches, one transaction each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import InboundEvent, InboundStatus, OutboxMessage, OutboxStatus
from schedulers.base import JobEnv

BATCH = 2000


def _prune(session: Session, model: type[InboundEvent] | type[OutboxMessage], *conditions: object) -> int:
    ids = list(session.scalars(select(model.id).where(*conditions).order_by(model.id).limit(BATCH)))  # type: ignore[arg-type]
    if ids:
        session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def prune(env: JobEnv, *, now: datetime, days: int) -> tuple[int, int]:
    """(inbound rows, outbox rows) deleted."""
    cutoff = now - timedelta(days=days)
    counts = [0, 0]
    for index, (model, conditions) in enumerate(
        (
            (InboundEvent, (InboundEvent.status == InboundStatus.DONE, InboundEvent.received_at < cutoff)),
            (OutboxMessage, (OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.created_at < cutoff)),
        )
    ):
        while True:
            with env.session_factory() as session, session.begin():
                deleted = _prune(session, model, *conditions)  # type: ignore[arg-type]
            counts[index] += deleted
            if deleted < BATCH:
                break
    return counts[0], counts[1]


def run(env: JobEnv, now: datetime) -> str:
    days = env.settings.salesbot_retention_days
    inbound, outbox = prune(env, now=now, days=days)
    return f"retention: pruned {inbound} handled inbound events and {outbox} delivered outbox rows older than {days} days"
