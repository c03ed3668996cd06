"""The finance webhook: each new contract and payment is POSTed, signed, to `collections.webhook_url`.

The event is written to the outbox in the same transaction as the record (kind "webhook"), so it is never
lost and never sent twice by the bot; the outbox retries it with backoff and dead-letters it like any
message (bot/webhook.py does the POST). Receivers must verify the signature and may use `id` to drop a
repeat (a crash between the POST and the mark re-sends it). Format and verification: docs/finance.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Instalment, OutboxMessage, OutboxStatus, Payment
from services.config import BusinessConfig

RECIPIENT = "@webhook"
KIND = "webhook"


def _money(value: Decimal | int | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def contract_data(session: Session, contract: Contract) -> dict[str, Any]:
    customer = session.get_one(Customer, contract.customer_id)
    plan = [
        {
            "seq": i.seq,
            "amount": _money(i.amount),
            "percent": None if i.percent is None else f"{Decimal(i.percent):g}",
            "event": i.event,
            "offset_days": i.offset_days,
            "due_on": i.due_on.isoformat() if i.due_on else None,
        }
        for i in session.scalars(
            select(Instalment).where(Instalment.contract_id == contract.id).order_by(Instalment.seq)
        )
    ]
    return {
        "contract_no": contract.id,
        "customer_id": customer.id,
        "customer": customer.name,
        "amount": _money(contract.amount),
        "signed_at": contract.signed_at.isoformat(),
        "signed_by": contract.signed_by,
        "instalments": plan,
    }


def payment_data(session: Session, payment: Payment) -> dict[str, Any]:
    customer = session.get_one(Customer, payment.customer_id)
    return {
        "payment_id": payment.id,
        "contract_no": payment.contract_id,
        "customer_id": customer.id,
        "customer": customer.name,
        "amount": _money(payment.amount),
        "received_at": payment.received_at.isoformat(),
        "recorded_by": payment.recorded_by,
    }


def emit(
    session: Session, *, config: BusinessConfig, event: str, ref: int, data: dict[str, Any], now: datetime
) -> bool:
    """Queue one event (no-op when no URL is configured). The URL is read again at delivery time."""
    url = config.collections.webhook_url
    if not url:
        return False
    key = f"webhook:{event}:{ref}"
    body = {"id": key, "event": event, "occurred_at": now.isoformat(), "data": data}
    session.add(
        OutboxMessage(
            dedup_key=key,
            recipient=RECIPIENT,
            kind=KIND,
            payload={"url": url, "body": body},
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
    return True


def contract_created(session: Session, *, config: BusinessConfig, contract: Contract, now: datetime) -> bool:
    return emit(
        session,
        config=config,
        event="contract.created",
        ref=contract.id,
        data=contract_data(session, contract),
        now=now,
    )


def payment_created(session: Session, *, config: BusinessConfig, payment: Payment, now: datetime) -> bool:
    return emit(
        session,
        config=config,
        event="payment.created",
        ref=payment.id,
        data=payment_data(session, payment),
        now=now,
    )


def body_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, *, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of "<timestamp>." + body (the timestamp header stops replays)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, *, timestamp: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp=timestamp, body=body), given)
