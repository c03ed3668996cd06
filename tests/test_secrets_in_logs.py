"""Logs at DEBUG hold no token, secret, AES key, access_token or message text (reliability.md B9, B17)."""

from __future__ import annotations

import logging

import pytest

from bot.kv import MemoryKV
from tests.harness import AES_KEY, TOKEN, Bot

SECRET_TEXT = "机密报价九折 98765"


def _scenario(bot: Bot) -> list[str]:
    """帮助 from a rep, a token refresh, a failed send, a bad signature; returns the texts that went out."""

    def now() -> float:
        return bot.clock().timestamp()

    bot.wecom.clock, bot.state.wecom._clock, bot.state.wecom._kv = now, now, MemoryKV(clock=now)
    bot.send_text("rep_e1", "帮助")
    bot.deliver()
    bot.clock.advance(seconds=30)
    bot.wecom.expire_token(errcode=42001)  # WeCom revoked the token early: one refresh
    bot.send_text("rep_e2", "帮助")
    bot.send_text("rep_e1", SECRET_TEXT)
    bot.deliver()
    bot.wecom.fail_next(81013, "message/send")  # a failed send
    bot.send_text("sup_east", "帮助")
    bot.deliver()
    bot.client.post(
        "/wecom/callback?msg_signature=00&timestamp=1&nonce=2", content=b"<xml><Encrypt>abc</Encrypt></xml>"
    )
    return bot.texts("rep_e1") + bot.texts("rep_e2")


def test_b17_debug_logs_hold_no_secret_and_no_message_text(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger and everything below it, httpx included
    sent = _scenario(bot)
    assert len(bot.wecom.calls_to("gettoken")) >= 2  # the refresh really happened
    assert any(c.json and c.json.get("touser") == "sup_east" for c in bot.wecom.calls_to("message/send"))
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    forbidden = {
        "corpsecret": bot.state.settings.wecom_secret,
        "callback token": TOKEN,
        "AES key": AES_KEY,
        "message text": SECRET_TEXT,
    }
    for number, token in enumerate(bot.wecom.issued_tokens):
        forbidden[f"access_token #{number}"] = token
    for text in sent:  # what the bot answered (first line is distinctive enough)
        forbidden[f"reply {text[:10]!r}"] = text.splitlines()[0]
    leaks = [name for name, value in forbidden.items() if value and value in logged]
    assert leaks == [], leaks
    assert "access_token=" not in logged.replace("access_token=***", "")
