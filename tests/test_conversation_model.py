"""The optional model path through the bot: asked outside the message's transaction, so WeCom's ack stays as fast
as without it even while the model takes seconds; its reading becomes the same proposal card, written on 确认."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from cards.keys import PROPOSAL_CONFIRM, CardKey
from models import Customer, Visit
from services.understanding import ModelClient
from tests.harness import AGENT_ID, CORP_ID, SHANGHAI, TOKEN, Bot
from tests.test_understanding_model import FakeModel, fake_model

__all__ = ["fake_model"]


def _post_only(bot: Bot, inner_xml: str) -> tuple[int, float]:
    """A callback as WeCom sends it, timed; unlike bot.post_plain it does NOT run the worker afterwards."""
    from bot.crypto import signature

    encrypted = bot.crypto.encrypt(inner_xml)
    ts, nonce = str(int(bot.clock().timestamp())), secrets.token_hex(6)
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    )
    query = urlencode(
        {"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    )
    started = time.perf_counter()
    response = bot.client.post(f"/wecom/callback?{query}", content=body.encode())
    return response.status_code, time.perf_counter() - started


def _customer(bot: Bot, name: str) -> int:
    at = datetime(2026, 11, 1, tzinfo=SHANGHAI)
    with bot.session() as s, s.begin():
        c = Customer(
            name=name,
            name_norm=name,
            region="华东",
            owner_userid="rep_e1",
            custom={},
            complete=True,
            created_at=at,
            updated_at=at,
        )
        s.add(c)
        s.flush()
        return c.id


def test_a_slow_model_does_not_slow_the_ack_and_its_reading_is_proposed(
    bot: Bot, fake_model: FakeModel
) -> None:
    cid = _customer(bot, "常州德润制药有限公司")
    fake_model.delay = 1.5
    fake_model.reply = {"intent": "visit", "customer": "常州德润制药有限公司", "text": "聊了聊二期的事"}
    bot.state.dispatcher.services["understand_model"] = ModelClient(
        base_url=fake_model.url, model="fake", timeout=5
    )

    status, _ = _post_only(bot, bot.text_xml("rep_e1", "嗯 那边 聊了聊二期的事 挺顺"))
    assert status == 200
    worker = threading.Thread(target=bot.process)
    worker.start()
    deadline = time.monotonic() + 5
    while not fake_model.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_model.requests, "the rules could not decide: the model was asked"
    # While the model thinks, another person's message is acked at once (no transaction holds the database).
    status, elapsed = _post_only(bot, bot.text_xml("rep_e2", "帮助"))
    assert status == 200 and elapsed < 0.5, elapsed
    worker.join(10)
    bot.process()

    cards = bot.cards("rep_e1")
    assert cards and "常州德润制药有限公司" in str(cards[-1]) and "记录拜访" in str(cards[-1])
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 0
    bot.tap("rep_e1", cards[-1]["task_id"], CardKey(PROPOSAL_CONFIRM).pack())
    with bot.session() as s:
        visit = s.scalars(select(Visit)).one()
        assert visit.customer_id == cid


def test_a_failing_model_leaves_the_rules_answer(bot: Bot, fake_model: FakeModel) -> None:
    fake_model.status = 500
    bot.state.dispatcher.services["understand_model"] = ModelClient(
        base_url=fake_model.url, model="fake", timeout=2
    )
    bot.send_text("rep_e1", "qwe rty 那个东西")
    reply: Any = bot.last_text("rep_e1")
    assert "没看懂" in reply and fake_model.requests


def test_the_model_is_configured_from_the_environment_settings(db: Any, fake_model: FakeModel) -> None:
    from tests.harness import make_bot, seed_org

    url, engine = db
    configured = make_bot(url, engine, salesbot_llm_base_url=fake_model.url, salesbot_llm_model="fake")
    plain = make_bot(url, engine)
    try:
        assert isinstance(configured.state.dispatcher.services.get("understand_model"), ModelClient)
        assert "understand_model" not in plain.state.dispatcher.services
        with configured.session() as s, s.begin():
            seed_org(s)
        fake_model.reply = {"intent": "smalltalk"}
        configured.send_text("rep_e1", "qwe rty 那个东西")
        assert fake_model.requests and "没看懂" not in configured.last_text("rep_e1")
    finally:
        configured.client.close()
        plain.client.close()
