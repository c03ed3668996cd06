"""POST of a queued finance event (services/webhook.py) — called by the outbox deliverer for kind "webhook".

A 2xx is delivered; a 408/429/5xx or a network error is retried by the outbox with backoff; any other 4xx
is permanent (the receiver refuses the request as it is, repeating it cannot help).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.webhook import body_bytes, signature


class WebhookError(Exception):
    def __init__(self, kind: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind  # retry | permanent (read by bot/outbox.Deliverer._record_failure)
        self.errcode = status


class WebhookSender:
    def __init__(
        self,
        *,
        secret: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        clock: Any = time.time,
    ) -> None:
        self.secret = secret
        self.timeout = timeout
        self.transport = transport
        self.clock = clock

    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.secret:
            raise WebhookError("permanent", "SALESBOT_WEBHOOK_SECRET is not set")
        body = body_bytes(payload["body"])
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-SalesBot-Event": str(payload["body"].get("event", "")),
            "X-SalesBot-Delivery": str(payload["body"].get("id", "")),
            "X-SalesBot-Timestamp": timestamp,
            "X-SalesBot-Signature": signature(self.secret, timestamp=timestamp, body=body),
        }
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(payload["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise WebhookError("retry", type(exc).__name__) from None
        if 200 <= response.status_code < 300:
            return {}
        kind = "retry" if response.status_code in (408, 429) or response.status_code >= 500 else "permanent"
        raise WebhookError(kind, f"HTTP {response.status_code}", response.status_code)
