"""An in-memory stand-in for the WeCom server API (`/cgi-bin/...`), for tests and demo mode. Long because it
stands in for every WeCom API the bot calls, with injectable failures; test and demo code only.

It follows wecom-protocol.md §5 closely enough to exercise the client's failure handling:
tokens that expire or get revoked (42001/40014), wrong secret (40001), single-use response codes
(60140), duplicate card task_ids (42014), the text duplicate check, the silent per-member drop
above 30 messages/min, media upload/get with a JSON error body (40007), and injectable failures
and hangs. Every call is recorded without its access_token or corpsecret.

Use `transport()` in-process (an `httpx.MockTransport`) or mount `asgi_app()` and point
`WECOM_API_BASE` at it (demo mode).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

RESPONSE_CODE_TTL_S = 72 * 3600
ERR_TASK_ID = 42014  # task_id already exists, empty, too long or with illegal characters
ERR_RESPONSE_CODE = 60140  # response_code unknown, used or expired
_TASK_ID_RE = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
_SECRET_PARAMS = ("access_token", "corpsecret")
_MEDIA_TYPES = ("image", "voice", "video", "file")


@dataclass(frozen=True)
class FakeCall:
    path: str  # relative to /cgi-bin/, e.g. "message/send"
    params: dict[str, str]  # query parameters without access_token / corpsecret
    json: Any  # parsed JSON body, or None
    method: str = "GET"
    at: float = 0.0  # the fake's clock when the call arrived


@dataclass(frozen=True)
class FakeResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    errcode: int
    path: str | None
    remaining: int | None  # None: forever
    status: int


@dataclass
class _Token:
    agent_id: int
    expires_at: float
    revoked_errcode: int | None = None


@dataclass
class _ResponseCode:
    agent_id: int
    task_id: str
    userids: tuple[str, ...]
    expires_at: float
    used: bool = False


def _norm_path(path: str) -> str:
    path = path.strip("/")
    return path.removeprefix("cgi-bin/")


def _norm_user(userid: str) -> str:
    return userid.strip().lower()  # WeCom user ids are case-insensitive and returned lower-cased


class FakeWeCom:
    """Thread-safe in-memory WeCom API. All state is guarded by one lock."""

    def __init__(
        self,
        corp_id: str = "wwfakecorp00000001",
        agent_id: int = 1000002,
        secret: str = "fake-app-secret",
        *,
        expires_in: int = 7200,
        clock: Callable[[], float] = time.time,
        users: Iterable[str] | None = None,
        per_member_per_minute: int | None = 30,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.secret = secret
        self.expires_in = expires_in
        self.clock = clock
        self.users = None if users is None else {_norm_user(u) for u in users}
        self.per_member_per_minute = per_member_per_minute
        self.calls: list[FakeCall] = []
        self.issued_tokens: list[str] = []
        self.dropped: list[tuple[str, dict[str, Any]]] = []  # (userid, message) over the per-member limit
        self.suppressed_duplicates: list[dict[str, Any]] = []  # request bodies hit by the duplicate check
        self._lock = threading.RLock()
        self._apps: dict[str, int] = {secret: agent_id}
        self._tokens: dict[str, _Token] = {}
        self._inbox: dict[str, list[dict[str, Any]]] = {}
        self._task_ids: set[tuple[int, str]] = set()
        self._codes: dict[str, _ResponseCode] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._dup_seen: dict[tuple[int, str], float] = {}
        self._recent: dict[tuple[int, str], deque[float]] = {}
        self._failures: list[_Failure] = []
        self._hangs: dict[str | None, float] = {}
        self._seq = 0

    # --- configuration and inspection -------------------------------------------------------------

    def add_app(self, agent_id: int, secret: str) -> None:
        with self._lock:
            self._apps[secret] = agent_id

    def calls_to(self, path: str) -> list[FakeCall]:
        wanted = _norm_path(path)
        with self._lock:
            return [call for call in self.calls if call.path == wanted]

    def messages_for(self, userid: str) -> list[dict[str, Any]]:
        """Copies of what was delivered to `userid`, oldest first (cards reflect later updates)."""
        with self._lock:
            return copy.deepcopy(self._inbox.get(_norm_user(userid), []))

    def issue_token(self, secret: str | None = None) -> tuple[str, int]:
        """Mint a token directly (not recorded as a call); returns (token, expires_in)."""
        with self._lock:
            agent_id = self._apps[secret if secret is not None else self.secret]
            return self._issue(agent_id), self.expires_in

    def expire_token(self, token: str | None = None, errcode: int = 42001) -> None:
        """Revoke `token` (default: every token issued so far); using it then answers `errcode`."""
        with self._lock:
            targets = [token] if token is not None else list(self._tokens)
            for value in targets:
                if value in self._tokens:
                    self._tokens[value].revoked_errcode = errcode

    def new_click_code(self, userid: str, task_id: str, agent_id: int | None = None) -> str:
        """A fresh single-use response_code, as a template_card_event click would carry."""
        with self._lock:
            return self._new_code(
                agent_id if agent_id is not None else self.agent_id, task_id, (_norm_user(userid),)
            )

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self._media[media_id] = (bytes(data), content_type)

    def media(self, media_id: str) -> bytes | None:
        with self._lock:
            entry = self._media.get(media_id)
            return entry[0] if entry else None

    def fail_next(self, errcode: int, path: str | None = None, times: int = 1, *, status: int = 200) -> None:
        """Answer the next `times` calls (to `path`; None = any API except gettoken) with `errcode`."""
        with self._lock:
            self._failures.append(
                _Failure(errcode, None if path is None else _norm_path(path), times, status)
            )

    def fail_always(self, errcode: int, path: str | None = None, *, status: int = 200) -> None:
        with self._lock:
            self._failures.append(_Failure(errcode, None if path is None else _norm_path(path), None, status))

    def hang(self, seconds: float, path: str | None = None) -> None:
        """Sleep `seconds` before answering calls (to `path`; None = every call). 0 stops hanging."""
        with self._lock:
            key = None if path is None else _norm_path(path)
            if seconds > 0:
                self._hangs[key] = seconds
            else:
                self._hangs.pop(key, None)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._hangs.clear()

    def hang_for(self, path: str) -> float:
        with self._lock:
            return max(self._hangs.get(_norm_path(path), 0.0), self._hangs.get(None, 0.0))

    # --- transports -------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """In-process transport. A hang longer than the request's read timeout raises ReadTimeout
        after that timeout (MockTransport itself enforces none), without processing the call."""

        def handler(request: httpx.Request) -> httpx.Response:
            path = _norm_path(request.url.path)
            delay = self.hang_for(path)
            if delay > 0:
                read_timeout = (request.extensions.get("timeout") or {}).get("read")
                if read_timeout is not None and delay > read_timeout:
                    time.sleep(read_timeout)
                    raise httpx.ReadTimeout("timed out", request=request)
                time.sleep(delay)
            result = self.handle(
                request.method,
                request.url.path,
                {key: value for key, value in request.url.params.items()},
                request.content,
                request.headers.get("content-type", ""),
            )
            return httpx.Response(
                result.status,
                content=result.body,
                headers={"content-type": result.content_type, **result.headers},
            )

        return httpx.MockTransport(handler)

    def asgi_app(self) -> Starlette:
        """The same API over HTTP: mount it and set WECOM_API_BASE to its URL."""
        from bot.wecom import install_log_redaction

        install_log_redaction("uvicorn.access")  # the access log line carries the query string

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            delay = self.hang_for(request.path_params["path"])
            if delay > 0:
                await anyio.sleep(delay)
                if await request.is_disconnected():  # the client timed out: like the MockTransport,
                    return Response(status_code=499)  # the call is not processed
            result = self.handle(
                request.method,
                "/cgi-bin/" + request.path_params["path"],
                dict(request.query_params),
                body,
                request.headers.get("content-type", ""),
            )
            return Response(
                result.body, status_code=result.status, media_type=result.content_type, headers=result.headers
            )

        return Starlette(routes=[Route("/cgi-bin/{path:path}", endpoint, methods=["GET", "POST"])])

    # --- request handling -------------------------------------------------------------------------

    def gettoken(self, corpid: str | None, corpsecret: str | None) -> dict[str, Any]:
        """The gettoken check: wrong corpid → 40013, missing secret → 41004, wrong secret → 40001."""
        with self._lock:
            if corpid != self.corp_id:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if not corpsecret:
                return {"errcode": 41004, "errmsg": "corpsecret missing"}
            agent_id = self._apps.get(corpsecret)
            if agent_id is None:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = self._issue(agent_id)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def handle(
        self, method: str, path: str, params: dict[str, str], body: bytes, content_type: str
    ) -> FakeResponse:
        """Answer one API request (transport-independent)."""
        path = _norm_path(path)
        payload: Any = None
        if body and ("json" in content_type.lower() or body[:1] == b"{"):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        with self._lock:
            self.calls.append(
                FakeCall(
                    path=path,
                    params={k: v for k, v in params.items() if k not in _SECRET_PARAMS},
                    json=copy.deepcopy(payload),
                    method=method.upper(),
                    at=self.clock(),
                )
            )
            failure = self._take_failure(path)
            if failure is not None:
                return _json_response(
                    {"errcode": failure.errcode, "errmsg": "injected failure"}, failure.status
                )
            if path == "gettoken":
                return _json_response(self.gettoken(params.get("corpid"), params.get("corpsecret")))
            routes: dict[tuple[str, str], Callable[[Any], Any]] = {
                ("POST", "message/send"): lambda agent: self._send(agent, payload),
                ("POST", "message/update_template_card"): lambda agent: self._update_card(agent, payload),
                ("POST", "media/upload"): lambda agent: self._upload(params, body, content_type),
                ("GET", "media/get"): lambda agent: self._get_media(params),
            }
            route = routes.get((method.upper(), path))
            if route is None:
                return _json_response({"errcode": 404, "errmsg": f"unknown API {path}"}, 404)
            agent_or_error = self._check_token(params.get("access_token"))
            if isinstance(agent_or_error, FakeResponse):
                return agent_or_error
            result = route(agent_or_error)
            return result if isinstance(result, FakeResponse) else _json_response(result)

    # --- internals (caller holds the lock) ------------------------------------------------------------

    def _next(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}-{self._seq:06d}-{uuid.uuid4().hex[:12]}"

    def _issue(self, agent_id: int) -> str:
        token = "fake-at-" + uuid.uuid4().hex + uuid.uuid4().hex
        self._tokens[token] = _Token(agent_id, self.clock() + self.expires_in)
        self.issued_tokens.append(token)
        return token

    def _new_code(self, agent_id: int, task_id: str, userids: tuple[str, ...]) -> str:
        code = self._next("fake-rc")
        self._codes[code] = _ResponseCode(agent_id, task_id, userids, self.clock() + RESPONSE_CODE_TTL_S)
        return code

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            matches = failure.path == path if failure.path is not None else path != "gettoken"
            if not matches:
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _check_token(self, token: str | None) -> int | FakeResponse:
        if not token:
            return _json_response({"errcode": 41001, "errmsg": "access_token missing"})
        entry = self._tokens.get(token)
        if entry is None:
            return _json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if entry.revoked_errcode is not None:
            return _json_response({"errcode": entry.revoked_errcode, "errmsg": "access_token expired"})
        if self.clock() >= entry.expires_at:
            return _json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return entry.agent_id

    def _send(self, token_agent: int, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {"errcode": 40008, "errmsg": "invalid message body"}
        agent_id = body.get("agentid")
        if agent_id != token_agent:
            return {"errcode": 301002, "errmsg": "agentid does not match the access_token's app"}
        msgtype = body.get("msgtype")
        content = body.get(msgtype) if isinstance(msgtype, str) else None
        if not isinstance(content, dict):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if msgtype in ("text", "markdown") and not content.get("content"):
            return {"errcode": 44004, "errmsg": "empty content"}
        recipients = [_norm_user(u) for u in str(body.get("touser", "")).split("|") if u.strip()]
        if not recipients:
            return {"errcode": 82001, "errmsg": "all recipients are empty"}
        invalid = [u for u in recipients if self.users is not None and u != "@all" and u not in self.users]
        valid = [u for u in recipients if u not in invalid]
        if not valid:
            return {
                "errcode": 81013,
                "errmsg": "all recipients are invalid",
                "invaliduser": "|".join(invalid),
            }
        task_id = content.get("task_id") if msgtype == "template_card" else None
        if msgtype == "template_card" and task_id is not None:
            if not isinstance(task_id, str) or not _TASK_ID_RE.match(task_id):
                return {"errcode": ERR_TASK_ID, "errmsg": "invalid task_id"}
            if (agent_id, task_id) in self._task_ids:
                return {"errcode": ERR_TASK_ID, "errmsg": "task_id already exists"}
        now = self.clock()
        result: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "msgid": self._next("fake-msg"),
        }
        if body.get("enable_duplicate_check") == 1:
            interval = float(body.get("duplicate_check_interval", 1800))
            key = (agent_id, json.dumps(body, sort_keys=True, ensure_ascii=False))
            seen = self._dup_seen.get(key)
            if seen is not None and now - seen < interval:
                self.suppressed_duplicates.append(copy.deepcopy(body))
                return result
            self._dup_seen[key] = now
        if task_id is not None:
            self._task_ids.add((agent_id, task_id))
            result["response_code"] = self._new_code(agent_id, task_id, tuple(valid))
        elif msgtype == "template_card":
            result["response_code"] = self._new_code(agent_id, "", tuple(valid))
        for userid in valid:
            message: dict[str, Any] = {
                "msgid": result["msgid"],
                "msgtype": msgtype,
                cast(str, msgtype): copy.deepcopy(content),
                "agentid": agent_id,
                "sent_at": now,
                "updated": False,
            }
            if msgtype == "template_card":
                message["task_id"] = task_id
                message["response_code"] = result["response_code"]
            media_id = content.get("media_id")
            if isinstance(media_id, str):
                message["data"] = self._media.get(media_id, (None, ""))[0]
            if self._over_member_limit(agent_id, userid, now):
                self.dropped.append((userid, message))
                continue
            self._inbox.setdefault(userid, []).append(message)
        return result

    def _over_member_limit(self, agent_id: int, userid: str, now: float) -> bool:
        if self.per_member_per_minute is None:
            return False
        recent = self._recent.setdefault((agent_id, userid), deque())
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= self.per_member_per_minute:
            return True  # WeCom drops it silently: the sender still sees errcode 0
        recent.append(now)
        return False

    def _update_card(self, token_agent: int, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {"errcode": 40008, "errmsg": "invalid body"}
        code_value = str(body.get("response_code", ""))
        code = self._codes.get(code_value)
        if code is None or code.used or self.clock() >= code.expires_at:
            return {"errcode": ERR_RESPONSE_CODE, "errmsg": "invalid response_code"}
        if body.get("agentid") != code.agent_id or token_agent != code.agent_id:
            return {"errcode": 42015, "errmsg": "the updating app is not the sending app"}
        card = body.get("template_card")
        button = body.get("button")
        if not isinstance(card, dict) and not isinstance(button, dict):
            return {"errcode": 40008, "errmsg": "template_card or button required"}
        code.used = True
        if body.get("userids"):
            targets = [_norm_user(u) for u in body["userids"]]
        elif body.get("atall") == 1:
            targets = [
                user
                for user, messages in self._inbox.items()
                if any(self._is_card(m, code_value, code) for m in messages)
            ]
        else:
            targets = list(code.userids)
        invalid: list[str] = []
        for userid in targets:
            cards = [m for m in self._inbox.get(userid, []) if self._is_card(m, code_value, code)]
            if not cards:
                invalid.append(userid)
            for message in cards:
                if isinstance(card, dict):
                    message["template_card"] = copy.deepcopy(card)
                else:
                    message["button_replace_name"] = button.get("replace_name") if button else None
                message["updated"] = True
        return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}

    @staticmethod
    def _is_card(message: dict[str, Any], code_value: str, code: _ResponseCode) -> bool:
        """Whether `message` is the card `code` may update: same task_id (or, without one, same send)."""
        if message.get("msgtype") != "template_card" or message.get("agentid") != code.agent_id:
            return False
        if code.task_id:
            return message.get("task_id") == code.task_id
        return message.get("response_code") == code_value

    def _upload(self, params: dict[str, str], body: bytes, content_type: str) -> dict[str, Any]:
        media_type = params.get("type")
        if media_type not in _MEDIA_TYPES:
            return {"errcode": 40005, "errmsg": "invalid media type"}
        part = _parse_multipart(body, content_type).get("media")
        if part is None:
            return {"errcode": 41005, "errmsg": "media data missing"}
        _filename, part_type, data = part
        if not data:
            return {"errcode": 44001, "errmsg": "empty media data"}
        if len(data) <= 5:
            return {"errcode": 40006, "errmsg": "invalid media size"}
        media_id = self._next("fake-media")
        self._media[media_id] = (data, part_type)
        return {
            "errcode": 0,
            "errmsg": "",
            "type": media_type,
            "media_id": media_id,
            "created_at": str(int(self.clock())),
        }

    def _get_media(self, params: dict[str, str]) -> FakeResponse:
        media_id = params.get("media_id", "")
        entry = self._media.get(media_id)
        if entry is None:
            # WeCom answers media errors with a JSON body; text/plain is the harder case for clients.
            return _json_response(
                {"errcode": 40007, "errmsg": "invalid media_id"}, content_type="text/plain; charset=utf-8"
            )
        data, part_type = entry
        return FakeResponse(
            200, data, part_type, {"content-disposition": f'attachment; filename="{media_id}"'}
        )


def _json_response(
    payload: dict[str, Any], status: int = 200, content_type: str = "application/json; charset=utf-8"
) -> FakeResponse:
    return FakeResponse(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), content_type)


def _parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, str, bytes]]:
    """Minimal multipart/form-data parser: {field: (filename, content_type, bytes)}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return {}
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, tuple[str | None, str, bytes]] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        data = data.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name:
            fields[name.group(1)] = (
                filename.group(1) if filename else None,
                headers.get("content-type", "application/octet-stream"),
                data,
            )
    return fields
