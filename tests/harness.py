"""Test harness: a SalesBot app on a fresh database, the fake WeCom API, real encrypted callbacks, a frozen clock.

def test_something(bot):
    bot.send_text("rep_e1", "帮助")
    bot.deliver()
    assert "拜访" in bot.last_text("rep_e1")
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bot.app import AppState, build_state, create_app
from bot.crypto import CallbackCrypto, signature
from bot.kv import MemoryKV
from chat.settings import Settings
from demo.fake_wecom import FakeWeCom
from models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
CORP_ID = "wwsalesbottest0001"
AGENT_ID = 1000002
TOKEN = "SalesBotTestToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

ORG = [
    # userid, name, role, region, manager
    ("boss", "王总", "director", "", ""),
    ("admin", "刘文员", "admin", "", ""),
    ("sup_east", "陈主管", "supervisor", "华东", "boss"),
    ("sup_south", "黄主管", "supervisor", "华南", "boss"),
    ("rep_e1", "张伟", "rep", "华东", "sup_east"),
    ("rep_e2", "李娜", "rep", "华东", "sup_east"),
    ("rep_s1", "赵强", "rep", "华南", "sup_south"),
    ("tech", "孙工", "tech_lead", "", "boss"),
    ("fin", "周会计", "finance", "", "boss"),
]


def bot_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "wecom_corp_id": CORP_ID,
        "wecom_agent_id": AGENT_ID,
        "wecom_secret": "test-secret-value-0123456789",
        "wecom_token": TOKEN,
        "wecom_aes_key": AES_KEY,
        "wecom_api_base": "https://qyapi.weixin.qq.com",
        "database_url": database_url,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class FrozenClock:
    """Injected time. Starts at a Friday morning in Shanghai unless told otherwise."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=SHANGHAI)
        with self._lock:
            self.now = when.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now = self.now + timedelta(**delta)
            return self.now

    def local(self) -> datetime:
        return self().astimezone(SHANGHAI)


_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


@dataclass
class Bot:
    state: AppState
    client: TestClient
    wecom: FakeWeCom
    clock: FrozenClock
    crypto: CallbackCrypto = field(init=False)

    def __post_init__(self) -> None:
        self.crypto = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, window_s=10**10)

    # --- building callbacks -------------------------------------------------------------------------
    def post_plain(
        self, inner_xml: str, *, timestamp: int | None = None, corp_for_envelope: str = CORP_ID
    ) -> Any:
        encrypted = self.crypto.encrypt(inner_xml)
        ts = str(timestamp if timestamp is not None else int(self.clock().timestamp()))
        nonce = secrets.token_hex(6)
        sig = signature(TOKEN, ts, nonce, encrypted)
        body = (
            f"<xml><ToUserName><![CDATA[{corp_for_envelope}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
        )
        query = urlencode({"msg_signature": sig, "timestamp": ts, "nonce": nonce})
        response = self.client.post(f"/wecom/callback?{query}", content=body.encode())
        self.process()
        return response

    def process(self) -> int:
        """What the server's worker does after the 200: handle every accepted message."""
        return self.state.dispatcher.process_pending()

    def _envelope(self, userid: str, body: str, *, corp: str = CORP_ID, agent: int = AGENT_ID) -> str:
        created = int(self.clock().timestamp())
        return (
            f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime>{body}<AgentID>{agent}</AgentID></xml>"
        )

    def text_xml(self, userid: str, content: str, *, msg_id: int | None = None, **kw: Any) -> str:
        msg_id = msg_id if msg_id is not None else next(_msg_ids)
        body = f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
        return self._envelope(userid, body, **kw)

    def send_text(self, userid: str, content: str, *, msg_id: int | None = None) -> Any:
        response = self.post_plain(self.text_xml(userid, content, msg_id=msg_id))
        assert response.status_code == 200, response.text
        return response

    def send_location(self, userid: str, lat: float, lng: float, label: str = "位置") -> Any:
        body = (
            f"<MsgType><![CDATA[location]]></MsgType><Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y>"
            f"<Scale>15</Scale><Label><![CDATA[{label}]]></Label><MsgId>{next(_msg_ids)}</MsgId>"
        )
        return self.post_plain(self._envelope(userid, body))

    def send_location_event(self, userid: str, lat: float, lng: float) -> Any:
        body = (
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event>"
            f"<Latitude>{lat}</Latitude><Longitude>{lng}</Longitude><Precision>30.0</Precision>"
        )
        return self.post_plain(self._envelope(userid, body))

    def send_image(self, userid: str, media_id: str) -> Any:
        body = (
            f"<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl>"
            f"<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{next(_msg_ids)}</MsgId>"
        )
        return self.post_plain(self._envelope(userid, body))

    def tap(self, userid: str, task_id: str, key: str, *, response_code: str | None = None) -> Any:
        """A template_card_event, with a fresh response code from the fake WeCom unless one is given."""
        code = response_code or self.wecom.new_click_code(userid, task_id)
        body = (
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
            f"<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[{code}]]></ResponseCode>"
        )
        response = self.post_plain(self._envelope(userid, body))
        assert response.status_code == 200, response.text
        return response

    # --- what came out ------------------------------------------------------------------------------
    def deliver(self) -> Any:
        self.process()
        self.state.photos.run_once()  # the photo thread's round (visit photos are downloaded after commit)
        return self.state.deliverer.drain(now=self.clock())

    def messages(self, userid: str) -> list[dict[str, Any]]:
        self.deliver()
        return self.wecom.messages_for(userid)

    def texts(self, userid: str) -> list[str]:
        out = []
        for message in self.messages(userid):
            kind = message.get("msgtype")
            if kind in ("text", "markdown"):
                out.append(message[kind]["content"])
        return out

    def last_text(self, userid: str) -> str:
        texts = self.texts(userid)
        assert texts, f"no text for {userid}"
        return texts[-1]

    def cards(self, userid: str) -> list[dict[str, Any]]:
        return [m["template_card"] for m in self.messages(userid) if m.get("msgtype") == "template_card"]

    def session(self) -> Session:
        return self.state.session_factory()

    def user(self, userid: str) -> User:
        with self.session() as s:
            found = s.query(User).filter_by(userid=userid).one()
            s.expunge(found)
            return found

    def run_job(self, name: str, when: datetime | None = None) -> str:
        from schedulers import run_job

        if when is not None:
            self.clock.set(when)
        return run_job(name, self.state, self.clock())


def make_bot(database_url: str, engine: Any, *, clock: FrozenClock | None = None, **overrides: Any) -> Bot:
    clock = clock or FrozenClock()
    settings = bot_settings(database_url, **overrides)
    wecom = FakeWeCom(
        corp_id=settings.wecom_corp_id, secret=settings.wecom_secret, agent_id=settings.wecom_agent_id
    )
    state = build_state(
        settings, clock=clock, engine=engine, wecom_transport=wecom.transport(), kv=MemoryKV(), migrate=False
    )
    app = create_app(settings, state=state, run_worker=False, run_scheduler=False)
    client = TestClient(app)
    return Bot(state=state, client=client, wecom=wecom, clock=clock)


def seed_org(
    session: Session, rows: list[tuple[str, str, str, str, str]] = ORG, now: datetime | None = None
) -> None:
    now = now or datetime(2026, 1, 1, tzinfo=UTC)
    for userid, name, role, region, manager in rows:
        session.add(
            User(
                userid=userid.lower(),
                display_userid=userid,
                name=name,
                role=role,
                region=region or None,
                manager_userid=manager or None,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
