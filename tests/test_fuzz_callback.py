"""Property tests: whatever reaches /wecom/callback, the answer is 2xx/4xx, never 5xx, and invalid input
stores nothing (issue 9; reliability.md B12–B15)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.crypto import signature
from models import InboundEvent, OutboxMessage
from tests.harness import AGENT_ID, CORP_ID, TOKEN, Bot

FUZZ = settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_TAGS = [
    "ToUserName",
    "MsgType",
    "Content",
    "MsgId",
    "Event",
    "EventKey",
    "TaskId",
    "AgentID",
    "CreateTime",
    "Location_X",
    "Location_Y",
    "MediaId",
    "ResponseCode",
    "SelectedItems",
    "Encrypt",
    "xml",
    "a",
]
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
_query_values = st.one_of(_text, st.integers().map(str), st.just(""))


def _stored(bot: Bot) -> int:
    with bot.session() as s:
        inbound = s.scalar(select(func.count()).select_from(InboundEvent)) or 0
        out = s.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        return inbound + out


def _signed_post(bot: Bot, inner: str, *, extra_query: dict[str, str] | None = None) -> int:
    encrypted = bot.crypto.encrypt(inner)
    ts = str(int(bot.clock().timestamp()))
    nonce = secrets.token_hex(4)
    query = {
        "msg_signature": signature(TOKEN, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
        **(extra_query or {}),
    }
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return bot.client.post("/wecom/callback?" + urlencode(query), content=body.encode()).status_code


@st.composite
def _elements(draw: st.DrawFn, *, with_sender: bool) -> str:
    parts = []
    if with_sender:
        parts.append(
            f"<FromUserName><![CDATA[{draw(st.sampled_from(['rep_e1', 'REP_E1', 'boss', 'ghost']))}]]></FromUserName>"
        )
        parts.append(
            f"<MsgType>{draw(st.sampled_from(['text', 'event', 'image', 'location', 'voice', '']))}</MsgType>"
        )
    for tag, value in draw(st.lists(st.tuples(st.sampled_from(_TAGS), _text), max_size=6)):
        cdata = value.replace("]]>", "")
        parts.append(
            f"<{tag}><![CDATA[{cdata}]]></{tag}>" if draw(st.booleans()) else f"<{tag}>{cdata}</{tag}>"
        )
    return "".join(parts)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=400),
        _text.map(str.encode),
        _elements(with_sender=False).map(lambda x: f"<xml>{x}</xml>".encode()),
    ),
    query=st.dictionaries(
        st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr", "x"]), _query_values, max_size=4
    ),
)
def test_fuzz_random_bodies_and_queries_never_5xx_and_store_nothing(
    bot: Bot, body: bytes, query: dict[str, str]
) -> None:
    response = bot.client.post("/wecom/callback?" + urlencode(query), content=body)
    assert 200 <= response.status_code < 500
    get = bot.client.get("/wecom/callback?" + urlencode(query))
    assert 200 <= get.status_code < 500
    assert _stored(bot) == 0


@FUZZ
@given(
    inner=st.one_of(
        _text,
        _elements(with_sender=False).map(lambda x: f"<xml>{x}</xml>"),
        st.just("<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><xml>&e;</xml>"),
    )
)
def test_fuzz_signed_inner_xml_without_a_sender_is_refused_and_stores_nothing(bot: Bot, inner: str) -> None:
    status = _signed_post(bot, inner)
    assert 400 <= status < 500 or status == 200
    assert _stored(bot) == 0


@FUZZ
@given(body=_elements(with_sender=True), create_time=st.one_of(st.integers(-(2**63), 2**63).map(str), _text))
def test_fuzz_signed_messages_from_a_sender_never_5xx(bot: Bot, body: str, create_time: str) -> None:
    inner = f"<xml><ToUserName>{CORP_ID}</ToUserName><CreateTime>{create_time}</CreateTime>{body}<AgentID>{AGENT_ID}</AgentID></xml>"
    status = _signed_post(bot, inner)
    assert 200 <= status < 500
