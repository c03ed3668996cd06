"""Operator views of the outbox: list dead letters, re-drive them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import OutboxMessage, OutboxStatus
from models.db import affected

_STATUS_LABELS = {
    OutboxStatus.DEAD: "已放弃（多次重试未成功，可重发）",
    OutboxStatus.FAILED: "无法送达（不会重试）",
}


def list_dead(session: Session, *, tz: ZoneInfo) -> list[str]:
    """One Chinese line per dead or failed message, for the administrator (`salesbot outbox list`); times in `tz`."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_([OutboxStatus.DEAD, OutboxStatus.FAILED]))
        .order_by(OutboxMessage.id)
    )
    return [
        f"#{r.id}\t{_STATUS_LABELS.get(r.status, r.status)}\t收件人 {r.recipient}\t{r.kind}"
        f"\t错误码 {r.last_errcode if r.last_errcode is not None else '无'}\t已尝试 {r.attempts} 次"
        f"\t{r.created_at.astimezone(tz):%Y-%m-%d %H:%M}"
        for r in rows
    ]


def redrive(session: Session, *, ids: Iterable[int] | None, now: datetime) -> int:
    stmt = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
    if ids:
        stmt = stmt.where(OutboxMessage.id.in_(list(ids)))
    result = session.execute(
        stmt.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None)
    )
    return affected(result) or 0
