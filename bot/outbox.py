"""Delivering the transactional outbox (rows are written by chat/outbox.py with the effect), after commit.

Exactly-once toward the user comes from (1) a natural dedup key per row (unique), (2) claims by conditional
update (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), (3) WeCom's own duplicate suppression on a re-send
after a crash (`enable_duplicate_check` for text, 42014 for a card's task_id).
"""

from __future__ import annotations

import base64
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox_batch import LEASE as LEASE  # re-exported: the lease is part of this module's contract
from bot.outbox_batch import (
    RATE_PAUSE_S,
    OutRow,
    PendingMarks,
    claim_rows,
    defer_rows,
    recent_sends,
    within_limits,
)
from chat.outbox import alert_admins, enqueue
from chat.replies import Text
from models import OutboxMessage, OutboxStatus
from models.db import affected

log = logging.getLogger("salesbot.outbox")

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0
# A row is dead-lettered after max_attempts AND at least this long after it was written, so that a WeCom
# outage of half an hour (reliability.md C21) never dead-letters messages: full jitter can make 12
# attempts take only minutes. Shorter than the duplicate-check interval, so crash re-sends stay suppressed.
MIN_RETRY_HORIZON = timedelta(hours=1)
# WeCom's duplicate check suppresses an identical request JSON within the interval. It is there for the
# re-send after a crash; a *legitimate* repeat (帮助 twice in an hour) must still arrive, so each row gets
# its own interval: the request JSON differs between rows and is identical for one row's re-sends.
DUPLICATE_CHECK_MAX_S = 14400
DUPLICATE_CHECK_SPREAD_S = 7200


def duplicate_check_interval(row_id: int) -> int:
    """Row-specific, in [7201, 14400] s: always longer than the crash re-send horizon."""
    return DUPLICATE_CHECK_MAX_S - (row_id % DUPLICATE_CHECK_SPREAD_S)


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    errors: list[int] = field(default_factory=list)


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**attempts)), at least one second."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(attempts, 0)))
    return max(1.0, (rng or random).uniform(0, ceiling))


def sweep_stuck(session: Session, *, now: datetime) -> int:
    """Rows left in 'sending' by a dead process go back to 'pending' once their lease has run out."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now)
    )
    return affected(result) or 0


class Deliverer:
    """Claims due rows and sends them with the WeCom client; safe to run in several processes at once.

    Round trips per batch: one transaction claims the due rows and applies the per-member rate limit
    (sweep, claim, one grouped count), the sends follow outside any transaction, and one UPDATE marks
    the whole batch sent (`mark_sent`; the worker folds it into its next transaction, bot/worker.py).
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        client: Any,
        max_attempts: int = 12,
        per_member_per_minute: int = 30,
        per_member_per_hour: int = 1000,
        rng: random.Random | None = None,
        webhook: Any = None,
    ) -> None:
        self.session_factory = session_factory
        self.client = client
        self.webhook = webhook  # bot/webhook.WebhookSender, for kind "webhook" (finance events)
        self.max_attempts = max_attempts
        self.per_minute = per_member_per_minute
        self.per_hour = per_member_per_hour
        self.rng = rng or random.Random()

    def run_once(
        self, *, now: datetime, limit: int = 100, marks: PendingMarks | None = None
    ) -> DeliveryStats:
        """One claim-and-send round. `marks`: rows sent earlier whose 'sent' is written in this transaction."""
        stats = DeliveryStats()
        own = marks if marks is not None else PendingMarks()
        with self.session_factory() as session, session.begin():
            own.flush_into(session)
            sweep_stuck(session, now=now)
            claimed = claim_rows(session, now=now, limit=limit)
            rows = self.rate_limit(session, claimed, now=now, stats=stats)
        own.committed()
        self.send_rows(rows, now=now, stats=stats, marks=own)
        if marks is None:
            self.flush(own)
        return stats

    def rate_limit(
        self, session: Session, rows: list[OutRow], *, now: datetime, stats: DeliveryStats
    ) -> list[OutRow]:
        """Inside the claiming transaction: rows over a member's limit go back to 'pending' for a minute."""
        if not rows:
            return rows
        counts = recent_sends(session, {r.recipient for r in rows}, now=now)
        send, defer = within_limits(rows, counts, per_minute=self.per_minute, per_hour=self.per_hour)
        defer_rows(session, [r.id for r in defer], now=now)
        stats.deferred += len(defer)
        return send

    def send_rows(
        self, rows: list[OutRow], *, now: datetime, stats: DeliveryStats, marks: PendingMarks
    ) -> None:
        """Send claimed rows (outside any transaction); successes are added to `marks`, failures recorded."""
        for row in rows:
            try:
                response = self._send(row.kind, row.recipient, dict(row.payload), row_id=row.id)
            except Exception as exc:  # WeComError or anything unexpected from the transport
                self._record_failure(
                    row.id,
                    exc,
                    now=now,
                    stats=stats,
                    kind=row.kind,
                    recipient=row.recipient,
                    key=row.dedup_key,
                    payload=row.payload,
                )
                continue
            code = response.get("response_code") if isinstance(response, dict) else None
            marks.add(row.id, str(code)[:255] if code else None, now)
            stats.sent += 1

    def flush(self, marks: PendingMarks) -> None:
        """Write pending 'sent' marks in a transaction of their own (when no other transaction is coming)."""
        if marks:
            with self.session_factory() as session, session.begin():
                marks.flush_into(session)
            marks.committed()

    def drain(self, *, now: datetime, max_rounds: int = 50) -> DeliveryStats:
        """Deliver until nothing due is left (the CLI's `jobs run` uses this)."""
        total = DeliveryStats()
        for _ in range(max_rounds):
            stats = self.run_once(now=now)
            for name in ("sent", "retried", "failed", "dead", "deferred"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            total.errors.extend(stats.errors)
            if not (stats.sent or stats.failed or stats.dead):
                break
        return total

    def _send(self, kind: str, recipient: str, payload: dict[str, Any], *, row_id: int = 0) -> Any:
        if kind in ("text", "markdown"):
            message = {
                **payload,
                "enable_duplicate_check": 1,
                "duplicate_check_interval": duplicate_check_interval(row_id),
            }
            return self.client.send(recipient, message)
        if kind == "card":
            return self.client.send(recipient, payload)
        if kind == "update_card":
            return self.client.update_template_card(
                [recipient], payload["response_code"], payload["template_card"]
            )
        if kind == "webhook":
            if self.webhook is None:
                raise ValueError("no webhook sender configured")
            return self.webhook.post(payload)
        if kind == "image":
            media_id = self.client.upload_media(
                base64.b64decode(payload["png_b64"]), payload.get("filename", "chart.png")
            )
            return self.client.send(recipient, {"msgtype": "image", "image": {"media_id": media_id}})
        raise ValueError(f"unknown outbox kind {kind}")

    def _record_failure(
        self,
        row_id: int,
        exc: Exception,
        *,
        now: datetime,
        stats: DeliveryStats,
        kind: str,
        recipient: str,
        key: str,
        payload: dict[str, Any],
    ) -> None:
        errcode = getattr(exc, "errcode", None)
        error_kind = getattr(exc, "kind", "retry")
        if errcode is not None:
            stats.errors.append(int(errcode))
        log.warning("outbox row %s failed: kind=%s errcode=%s", row_id, error_kind, errcode)
        with self.session_factory() as session, session.begin():
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_errcode = int(errcode) if errcode is not None else None
            row.last_error = type(exc).__name__[:255]
            row.lease_until = None
            if error_kind == "permanent":
                row.status = OutboxStatus.FAILED
                stats.failed += 1
                if kind == "update_card" and payload.get("fallback_text"):
                    enqueue(
                        session,
                        reply=Text(payload["fallback_text"]),
                        recipient=recipient,
                        dedup_key=f"{key}:fallback",
                        now=now,
                    )
                return
            if row.attempts >= self.max_attempts and now - row.created_at >= MIN_RETRY_HORIZON:
                row.status = OutboxStatus.DEAD
                stats.dead += 1
                if key.startswith("alert:"):  # an alert that cannot be delivered must not alert about itself
                    return
                alert_admins(
                    session,
                    key=f"dead:{row_id}",
                    text=f"一条发给 {recipient} 的消息在 {row.attempts} 次尝试后仍未送达（错误码 {errcode}），已转入死信。"
                    "处理方法见 docs/operations.md。",
                    now=now,
                )
                return
            delay = backoff_delay(row.attempts, rng=self.rng)
            if error_kind == "rate":
                delay = max(delay, RATE_PAUSE_S)
            row.status, row.next_attempt_at = OutboxStatus.PENDING, now + timedelta(seconds=delay)
            stats.retried += 1
