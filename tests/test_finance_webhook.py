"""The finance webhook: each new contract and payment is POSTed, signed, to a local fake ERP; failures are
retried through the outbox (backoff), a refusal is permanent, and nothing is sent when no URL is set."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from bot.webhook import WebhookSender
from models import OutboxMessage
from services.webhook import RECIPIENT, verify
from tests.collections_factory import contract_id, ready_opportunity
from tests.harness import Bot

SECRET = "erp-shared-secret"


class FakeERP:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # replies to the next requests; 200 when empty
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append({"headers": dict(self.headers), "body": body})
                status = server.statuses.pop(0) if server.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/salesbot"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def erp(bot: Bot) -> Iterator[FakeERP]:
    fake = FakeERP()
    config = bot.state.config
    bot.state.dispatcher.config = config.model_copy(
        update={"collections": config.collections.model_copy(update={"webhook_url": fake.url})}
    )
    bot.state.deliverer.webhook = WebhookSender(secret=SECRET, timeout=5)
    yield fake
    fake.close()


def _rows(bot: Bot) -> list[OutboxMessage]:
    with bot.session() as s:
        rows = list(
            s.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == RECIPIENT).order_by(OutboxMessage.id)
            )
        )
        for r in rows:
            s.expunge(r)
        return rows


def test_contract_and_payment_are_posted_signed(bot: Bot, erp: FakeERP) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/70 签约时/验收后30天")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"回款 #{cid} 15万")
    bot.deliver()
    assert [json.loads(r["body"])["event"] for r in erp.received] == ["contract.created", "payment.created"]
    first = erp.received[0]
    headers = {k.lower(): v for k, v in first["headers"].items()}
    assert verify(
        SECRET,
        timestamp=headers["x-salesbot-timestamp"],
        body=first["body"],
        given=headers["x-salesbot-signature"],
    )
    assert not verify(
        "wrong",
        timestamp=headers["x-salesbot-timestamp"],
        body=first["body"],
        given=headers["x-salesbot-signature"],
    )
    contract = json.loads(first["body"])["data"]
    assert (
        contract["contract_no"] == cid
        and contract["amount"] == "500000.00"
        and contract["customer"] == "华瑞电子"
    )
    assert [(i["seq"], i["amount"], i["event"]) for i in contract["instalments"]] == [
        (1, "150000.00", "签约"),
        (2, "350000.00", "验收"),
    ]
    payment = json.loads(erp.received[1]["body"])
    assert payment["data"]["amount"] == "150000.00" and payment["data"]["contract_no"] == cid
    assert (
        headers["x-salesbot-delivery"] == f"webhook:contract.created:{cid}"
        and headers["x-salesbot-event"] == "contract.created"
    )
    assert [r.status for r in _rows(bot)] == ["sent", "sent"]


def test_failures_are_retried_through_the_outbox(bot: Bot, erp: FakeERP) -> None:
    ready_opportunity(bot)
    erp.statuses = [503, 500]  # the ERP is down twice, then takes it
    bot.send_text("rep_e1", "合同 贴片线 50万")
    bot.deliver()
    row = _rows(bot)[0]
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > bot.clock()
    assert len(erp.received) == 1
    for _ in range(3):
        bot.clock.advance(seconds=700)  # past the longest backoff
        bot.deliver()
    row = _rows(bot)[0]
    assert row.status == "sent" and row.attempts == 3
    assert len(erp.received) == 3 and len({r["body"] for r in erp.received}) == 1  # the same event each time
    bot.clock.advance(seconds=700)
    bot.deliver()
    assert len(erp.received) == 3  # sent once it was accepted


def test_a_refusal_is_permanent_and_an_unreachable_erp_is_retried(bot: Bot, erp: FakeERP) -> None:
    ready_opportunity(bot)
    erp.statuses = [400]
    bot.send_text("rep_e1", "合同 贴片线 50万")
    bot.deliver()
    assert _rows(bot)[0].status == "failed"
    erp.close()
    bot.send_text("rep_e1", f"回款 #{contract_id(bot)} 1万")
    bot.deliver()
    row = _rows(bot)[1]
    assert row.status == "pending" and row.last_error == "WebhookError"


def test_nothing_is_queued_without_a_url(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    bot.send_text("rep_e1", f"回款 #{contract_id(bot)} 1万")
    bot.deliver()
    assert _rows(bot) == []


def test_webhook_sender_without_a_secret_does_not_post(bot: Bot, erp: FakeERP) -> None:
    bot.state.deliverer.webhook = WebhookSender(secret="")
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    bot.deliver()
    assert erp.received == [] and _rows(bot)[0].status == "failed"
