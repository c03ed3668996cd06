"""`salesbot demo`: the whole product in a browser, with no WeCom account. Long because the simulator's HTTP API,
its conversation store and the suggestions are one small app; it is demo code, never imported by production.

The bot runs exactly as in production — the real callback edge, dispatcher, outbox and WeCom client — but
its WeCom API is the in-process stand-in `FakeWeCom` (passed as the client's HTTP transport), and the
callbacks come from the `/sim` page: every message typed there becomes a real encrypted callback POSTed to
the app's own `/wecom/callback`; every button tap a real `template_card_event` with a fresh response code.

The demo secrets are fixed (they protect nothing: the fake API is in-process). The conversation record
(what the fake WeCom received per user, and what each user typed) is kept in `DATA_DIR/conversation.json`
so that a restart keeps the chat history, like the real WeCom app would.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from bot.crypto import signature
from chat.settings import Settings
from demo.fake_wecom import FakeWeCom
from models import Customer, Opportunity, OutboxMessage, OutboxStatus, User
from schedulers import run_job
from schedulers.jobs import JOBS, names
from services import roles
from services.parsing import SHANGHAI

if TYPE_CHECKING:
    from bot.app import AppState

log = logging.getLogger("salesbot.demo")

STATIC_DIR = Path(__file__).parent / "static"

# Fixed demo secrets: the stand-in API only lives inside this process.
DEMO_CORP_ID = "wwsalesbotdemo0001"
DEMO_AGENT_ID = 1000002
DEMO_SECRET = "salesbot-demo-secret-0000000000"
DEMO_TOKEN = "SalesBotDemoToken2026"
DEMO_AES_KEY = "SalesBotDemoAESKey0123456789abcdefghijklmno"  # 43 characters
DEMO_SEED = 2026


def demo_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for demo mode; no environment variables are read for the values given here."""
    values: dict[str, Any] = {
        "wecom_corp_id": DEMO_CORP_ID,
        "wecom_agent_id": DEMO_AGENT_ID,
        "wecom_secret": DEMO_SECRET,
        "wecom_token": DEMO_TOKEN,
        "wecom_aes_key": DEMO_AES_KEY,
        "wecom_api_base": "https://qyapi.weixin.qq.com",  # never reached: the fake is the transport
        "database_url": f"sqlite:///{(data_dir / 'salesbot.db').resolve()}",
        "redis_url": None,
        "salesbot_media_dir": data_dir / "media",
        "demo_mode": True,
        # WeCom's 30 messages per member per minute would hold a fast demonstrator's replies back for a
        # minute (the page then looks dead); the in-process stand-in has no such limit.
        "outbox_per_member_per_minute": 600,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class DemoRuntime:
    """The stand-in WeCom and the chat record of the page (what each user typed or tapped)."""

    fake: FakeWeCom
    data_dir: Path | None = None
    typed: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    seq: int = 0

    def note(self, userid: str, kind: str, text: str) -> None:
        with self.lock:
            self.seq += 1
            self.typed.append(
                {"userid": userid, "kind": kind, "text": text, "at": time.time(), "seq": self.seq}
            )

    def conversation(self, userid: str) -> list[dict[str, Any]]:
        """The user's chat, oldest first: what they typed and what the bot sent them (cards as updated)."""
        userid = userid.strip().lower()
        items: list[tuple[float, int, dict[str, Any]]] = []
        with self.lock:
            for entry in self.typed:
                if entry["userid"] == userid:
                    items.append(
                        (
                            entry["at"],
                            0,
                            {
                                "from": "me",
                                "kind": entry["kind"],
                                "text": entry["text"],
                                "at": entry["at"],
                                "id": f"me-{entry['seq']}",
                            },
                        )
                    )
        for index, message in enumerate(self.fake.messages_for(userid)):
            kind = str(message.get("msgtype"))
            item: dict[str, Any] = {
                "from": "bot",
                "kind": kind,
                "at": message.get("sent_at", 0.0),
                "id": message.get("msgid", f"bot-{index}"),
            }
            if kind in ("text", "markdown"):
                item["text"] = message[kind].get("content", "")
            elif kind == "template_card":
                item["card"] = message.get("template_card", {})
                item["task_id"] = message.get("task_id")
                item["updated"] = bool(message.get("updated"))
                item["replace_name"] = message.get("button_replace_name")
            elif kind in ("image", "file"):
                item["media_id"] = message[kind].get("media_id")
            else:
                item["text"] = json.dumps(message.get(kind), ensure_ascii=False)
            items.append((item["at"], 1, item))
        items.sort(key=lambda t: (t[0], t[1]))
        return [item for _, _, item in items]

    # --- persistence ------------------------------------------------------------------------------
    def save(self) -> None:
        if self.data_dir is None:
            return
        fake = self.fake
        with self.lock, fake._lock:
            inbox = {
                user: [{k: v for k, v in m.items() if k != "data"} for m in messages]
                for user, messages in fake._inbox.items()
            }
            media_dir = self.data_dir / "wecom-media"
            media_dir.mkdir(parents=True, exist_ok=True)
            for media_id, (data, content_type) in fake._media.items():
                path = media_dir / _safe_name(media_id)
                if not path.exists():
                    path.write_bytes(data)
                    path.with_suffix(".type").write_text(content_type)
            record = {
                "inbox": inbox,
                "typed": self.typed,
                "seq": self.seq,
                "task_ids": sorted(t for _, t in fake._task_ids),
            }
        tmp = self.data_dir / "conversation.json.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.data_dir / "conversation.json")

    def load(self) -> None:
        if self.data_dir is None or not (self.data_dir / "conversation.json").exists():
            return
        record = json.loads((self.data_dir / "conversation.json").read_text(encoding="utf-8"))
        fake = self.fake
        with self.lock, fake._lock:
            fake._inbox = {user: list(messages) for user, messages in record.get("inbox", {}).items()}
            fake._task_ids = {(fake.agent_id, t) for t in record.get("task_ids", [])}
            media_dir = self.data_dir / "wecom-media"
            if media_dir.is_dir():
                for path in media_dir.iterdir():
                    if path.suffix == ".type":
                        continue
                    type_file = path.with_suffix(".type")
                    content_type = type_file.read_text() if type_file.exists() else "application/octet-stream"
                    fake._media[path.name] = (path.read_bytes(), content_type)
            self.typed = list(record.get("typed", []))
            self.seq = int(record.get("seq", len(self.typed)))


def _safe_name(media_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in media_id)


# --- building callbacks ------------------------------------------------------------------------------


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def inner_xml(state: AppState, userid: str, body: str) -> str:
    settings = state.settings
    return (
        f"<xml><ToUserName>{_cdata(settings.wecom_corp_id)}</ToUserName><FromUserName>{_cdata(userid)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>{body}<AgentID>{settings.wecom_agent_id}</AgentID></xml>"
    )


def _msg_id() -> int:
    return int(time.time() * 1000) * 1000 + secrets.randbelow(1000)


def text_body(content: str) -> str:
    return (
        f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(content)}</Content><MsgId>{_msg_id()}</MsgId>"
    )


def location_body(lat: float, lng: float, label: str) -> str:
    return (
        f"<MsgType><![CDATA[location]]></MsgType><Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y>"
        f"<Scale>15</Scale><Label>{_cdata(label)}</Label><MsgId>{_msg_id()}</MsgId>"
    )


def image_body(media_id: str) -> str:
    return (
        f"<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://127.0.0.1/sim/media/{media_id}]]></PicUrl>"
        f"<MediaId>{_cdata(media_id)}</MediaId><MsgId>{_msg_id()}</MsgId>"
    )


def tap_body(task_id: str, key: str, response_code: str) -> str:
    return (
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey>{_cdata(key)}</EventKey><TaskId>{_cdata(task_id)}</TaskId>"
        f"<CardType><![CDATA[button_interaction]]></CardType><ResponseCode>{_cdata(response_code)}</ResponseCode>"
    )


def encrypted_callback(state: AppState, inner: str) -> tuple[str, bytes]:
    """(query string, body) of the POST WeCom would send: encrypted, signed, timestamped now."""
    encrypted = state.crypto.encrypt(inner)
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(6)
    sig = signature(state.settings.wecom_token, timestamp, nonce, encrypted)
    body = (
        f"<xml><ToUserName>{_cdata(state.settings.wecom_corp_id)}</ToUserName>"
        f"<Encrypt>{_cdata(encrypted)}</Encrypt><AgentID>{_cdata(str(state.settings.wecom_agent_id))}</AgentID></xml>"
    )
    return urlencode({"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}), body.encode("utf-8")


# --- the /sim page and its API -------------------------------------------------------------------------


def mount_demo(app: FastAPI, state: AppState) -> None:
    """Mount `/sim` (page, static assets, API) on the demo app (demo/run.py `build_demo`)."""
    runtime: DemoRuntime | None = state.extras.get("demo")
    if runtime is None:  # demo mode without run_demo (e.g. `serve` with DEMO_MODE=1): record nothing typed
        fake = state.extras.get("fake_wecom")
        if not isinstance(fake, FakeWeCom):
            log.warning("demo mode without a stand-in WeCom API: /sim is not mounted")
            return
        runtime = DemoRuntime(fake=fake)
        state.extras["demo"] = runtime
    rt = runtime

    async def post_callback(request: Request, inner: str) -> None:
        query, body = encrypted_callback(state, inner)
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://salesbot.demo") as client:
            response = await client.post(f"/wecom/callback?{query}", content=body)
        if response.status_code != 200:
            raise HTTPException(
                502, f"/wecom/callback answered {response.status_code}: {response.text[:200]}"
            )

    async def settle() -> None:
        await run_in_threadpool(deliver_now, state)
        await run_in_threadpool(rt.save)

    def known_user(userid: str) -> User:
        with state.session_factory() as session:
            user = session.scalar(select(User).where(User.userid == userid.strip().lower()))
            if user is None:
                raise HTTPException(404, "unknown user")
            session.expunge(user)
            return user

    async def payload(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "JSON body expected") from exc
        if not isinstance(data, dict):
            raise HTTPException(400, "JSON object expected")
        return data

    @app.get("/sim", include_in_schema=False)
    def sim_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "sim.html", media_type="text/html; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/sim")

    app.mount("/sim/static", StaticFiles(directory=STATIC_DIR), name="sim-static")

    @app.get("/sim/api/users")
    def users() -> JSONResponse:
        with state.session_factory() as session:
            rows = session.scalars(select(User).where(User.active.is_(True))).all()
            order = {role.value: i for i, role in enumerate(roles.ALL)}
            rows = sorted(rows, key=lambda u: (order.get(u.role, 99), u.region or "", u.userid))
            out = []
            for u in rows:
                out.append(
                    {
                        "userid": u.userid,
                        "name": u.name,
                        "role": u.role,
                        "role_label": roles.label(u.role),
                        "region": u.region or "",
                        "messages": len(rt.fake.messages_for(u.userid)),
                    }
                )
        groups = [{"role": r.value, "label": roles.LABELS[r]} for r in roles.ALL]
        return JSONResponse(
            {
                "users": out,
                "roles": groups,
                "jobs": [job.name for job in JOBS if job.in_demo],
                "now": datetime.now(SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
            }
        )

    @app.get("/sim/api/conversation")
    def conversation(userid: str) -> JSONResponse:
        return JSONResponse({"userid": userid, "messages": rt.conversation(userid)})

    @app.get("/sim/api/suggestions")
    def suggestions(userid: str) -> JSONResponse:
        return JSONResponse({"suggestions": suggestions_for(state, userid)})

    @app.post("/sim/api/send")
    async def send(request: Request) -> JSONResponse:
        data = await payload(request)
        user = known_user(str(data.get("userid", "")))
        text = str(data.get("text", "")).strip()
        if not text:
            raise HTTPException(400, "empty message")
        rt.note(user.userid, "text", text)
        await post_callback(request, inner_xml(state, user.display_userid, text_body(text)))
        await settle()
        return JSONResponse({"ok": True, "messages": rt.conversation(user.userid)})

    @app.post("/sim/api/location")
    async def location(request: Request) -> JSONResponse:
        data = await payload(request)
        user = known_user(str(data.get("userid", "")))
        try:
            lat, lng = float(data["lat"]), float(data["lng"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(400, "lat and lng expected") from exc
        label = str(data.get("label") or "当前位置")
        rt.note(user.userid, "location", f"[位置] {label}（{lat:.5f}, {lng:.5f}）")
        await post_callback(request, inner_xml(state, user.display_userid, location_body(lat, lng, label)))
        await settle()
        return JSONResponse({"ok": True, "messages": rt.conversation(user.userid)})

    @app.post("/sim/api/image")
    async def image(request: Request, userid: str) -> JSONResponse:
        user = known_user(userid)
        data = await request.body()
        if not data or len(data) > 10 * 1024 * 1024:
            raise HTTPException(400, "an image of at most 10 MB expected")
        media_id = f"demo-photo-{uuid.uuid4().hex}"
        rt.fake.add_media(media_id, data, request.headers.get("content-type") or "image/jpeg")
        rt.note(user.userid, "image", media_id)
        await post_callback(request, inner_xml(state, user.display_userid, image_body(media_id)))
        await settle()
        return JSONResponse({"ok": True, "messages": rt.conversation(user.userid)})

    @app.post("/sim/api/tap")
    async def tap(request: Request) -> JSONResponse:
        data = await payload(request)
        user = known_user(str(data.get("userid", "")))
        task_id, key = str(data.get("task_id", "")), str(data.get("key", ""))
        if not task_id or not key:
            raise HTTPException(400, "task_id and key expected")
        code = rt.fake.new_click_code(user.userid, task_id)
        rt.note(user.userid, "tap", str(data.get("label") or key))
        await post_callback(request, inner_xml(state, user.display_userid, tap_body(task_id, key, code)))
        await settle()
        return JSONResponse({"ok": True, "messages": rt.conversation(user.userid)})

    @app.post("/sim/api/jobs")
    async def jobs(request: Request) -> JSONResponse:
        data = await payload(request)
        name = str(data.get("name", ""))
        if name not in names():
            return JSONResponse({"ok": False, "summary": f"任务「{name}」还没有实现"}, status_code=200)
        when = parse_local(str(data.get("at") or ""))
        try:
            summary = await run_in_threadpool(run_job, name, state, when)
        except Exception as exc:  # show the operator what broke instead of a bare 500
            log.exception("demo job %s failed", name)
            return JSONResponse(
                {"ok": False, "summary": f"任务出错：{type(exc).__name__}: {exc}"}, status_code=200
            )
        await settle()
        local = when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return JSONResponse({"ok": True, "summary": f"{name} @ {local}：{summary}"})

    @app.get("/sim/media/{media_id}")
    def media(media_id: str) -> Response:
        with rt.fake._lock:
            entry = rt.fake._media.get(media_id)
        if entry is None:
            raise HTTPException(404, "unknown media")
        data, content_type = entry
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            content_type = "image/png"
        return Response(
            data,
            media_type=content_type or "application/octet-stream",
            headers={"cache-control": "max-age=86400"},
        )


def deliver_now(state: AppState, timeout_s: float = 3.0) -> None:
    """Deliver what is due, and wait for the outbox worker if it claimed some rows first."""
    deadline = time.monotonic() + timeout_s
    while True:
        state.dispatcher.process_pending()
        state.deliverer.drain(now=state.clock())
        with state.session_factory() as session:
            busy = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    OutboxMessage.next_attempt_at <= state.clock(),
                )
            )
        if not busy or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def parse_local(value: str) -> datetime:
    """A datetime-local value from the page (Asia/Shanghai); empty means now."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(400, "time expected as YYYY-MM-DDTHH:MM") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def suggestions_for(state: AppState, userid: str) -> list[str]:
    """A few commands worth trying as this person, filled in with their own seeded records."""
    with state.session_factory() as session:
        user = session.scalar(select(User).where(User.userid == userid.strip().lower()))
        if user is None:
            return []
        out = ["帮助", "待办"]
        if user.role == roles.Role.REP:
            customer = session.scalar(
                select(Customer).where(Customer.owner_userid == user.userid).order_by(Customer.id)
            )
            opp = session.scalar(
                select(Opportunity)
                .where(Opportunity.owner_userid == user.userid, Opportunity.stage == "方案制定")
                .order_by(Opportunity.id)
            )
            if customer is not None:
                short = customer.name[:6]
                out += [
                    f"客户 {short}",
                    f"拜访 {short} 谈了需求，客户关注能耗",
                    f"跟进 {short} 明天下午3点 发技术方案",
                ]
            if opp is not None:
                out += [f"报价 #{opp.id} 80000 含安装调试"]
            if customer is not None:
                out += [f"新客户 {customer.name[:2]}新建示例有限公司"]
            out += ["公海", "线索 宁波示例精工 王总 13812345678 展会 想要报价"]
        elif user.role in roles.DIGEST_RECIPIENTS:
            out += ["日报"]
        return out
