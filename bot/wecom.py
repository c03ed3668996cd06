"""WeCom (企业微信) server API client: token cache, bounded retry, errcode classification. Long because the client
keeps timeouts, token refresh with its lock, errcode classification and log scrubbing together: the WeCom edge
in one place.

Deliberately not wechatpy's client, which recurses without bound on token errors, has no timeouts,
refreshes without a lock and logs URLs that carry the access_token (reliability.md §1.2).

What this client guarantees:
- Explicit connect/read timeouts on every call (settings).
- One shared token per app in the KV, refreshed when < 300 s remain under a single-flight lock
  (set_nx, TTL 10 s) with a re-check after acquiring it; an older token never replaces a newer one.
- At most one `gettoken` per app per 10 s across all replicas sharing the KV.
- On 40001/40014/42001 from an API call: invalidate that token, refresh once, retry once. No recursion.
- Every failure is a `WeComError` whose `kind` tells the caller (the outbox) what to do.
- Logs and exception strings never contain the access_token, the corpsecret or message content.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.kv import KV
from chat.settings import Settings

log = logging.getLogger("salesbot.wecom")

ErrorKind = Literal["retry", "rate", "token", "permanent"]

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
RATE_ERRCODES = frozenset({45009, 45033})
RETRY_ERRCODES = frozenset({-1})
ERR_TASK_ID_EXISTS = 42014
ERR_INVALID_RESPONSE_CODE = 60140
NETWORK_ERRCODE = -1

TOKEN_REFRESH_MARGIN_S = 300.0
TOKEN_LOCK_TTL_S = 10.0
GETTOKEN_MIN_INTERVAL_S = 10.0
TOKEN_WAIT_S = 5.0
TOKEN_POLL_INTERVAL_S = 0.05
DUPLICATE_CHECK_INTERVAL_S = 14400  # 4 h, the maximum WeCom accepts; covers the outbox retry horizon

_MAX_ERRMSG_CHARS = 300


def classify(errcode: int) -> ErrorKind:
    """Map a WeCom errcode to what the caller should do (reliability.md §1.7)."""
    if errcode in RETRY_ERRCODES:
        return "retry"
    if errcode in RATE_ERRCODES:
        return "rate"
    if errcode in TOKEN_ERRCODES:
        return "token"
    return "permanent"


class WeComError(Exception):
    """A failed WeCom call. `kind` is one of retry / rate / token / permanent.

    The string form carries the errcode, kind, API path (never the query string) and a scrubbed errmsg.
    """

    def __init__(
        self, errcode: int, errmsg: str, kind: ErrorKind, *, path: str = "", http_status: int | None = None
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.kind: ErrorKind = kind
        self.path = path
        self.http_status = http_status
        super().__init__(errcode, errmsg, kind)

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"WeCom{where}: errcode={self.errcode} kind={self.kind} ({self.errmsg})"

    def __repr__(self) -> str:
        return f"WeComError(errcode={self.errcode}, kind={self.kind!r}, path={self.path!r})"


# --- log scrubbing ------------------------------------------------------------------------------

_SECRET_QUERY_RE = re.compile(r"(?i)\b(access_token|corpsecret)=[^&\s\"'#]*")


def redact(text: str) -> str:
    """Replace access_token / corpsecret query values in `text` with `***`."""
    return _SECRET_QUERY_RE.sub(lambda m: f"{m.group(1)}=***", text)


class RedactSecretsFilter(logging.Filter):
    """Scrubs `access_token=` / `corpsecret=` values from a record's message and arguments.

    httpx logs every request URL at INFO ("HTTP Request: POST https://…?access_token=…"); WeCom puts the
    token in the query string, so that logger must be filtered. Arguments are replaced one by one (not
    pre-formatted) so formatters that unpack `record.args` (uvicorn's access log) keep working.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._scrub(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: self._scrub(value) for key, value in record.args.items()}
        return True

    @staticmethod
    def _scrub(value: object) -> object:
        if value is None or isinstance(value, int | float):
            return value
        text = str(value)
        lowered = text.lower()
        if "access_token=" in lowered or "corpsecret=" in lowered:
            return redact(text)
        return value


_HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")


def install_log_redaction(*logger_names: str) -> None:
    """Attach `RedactSecretsFilter` to the named loggers (default: httpx/httpcore). Idempotent."""
    for name in logger_names or _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(RedactSecretsFilter())


# --- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # wall-clock epoch seconds, shared by all replicas
    raw: str  # the exact KV value, for compare-and-delete


class WeComClient:
    """Synchronous WeCom API client. Thread-safe; share one per process (or one per thread)."""

    def __init__(
        self,
        settings: Settings,
        kv: KV,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        *,
        token_wait_s: float = TOKEN_WAIT_S,
    ) -> None:
        self._corp_id = settings.wecom_corp_id
        self._agent_id = int(settings.wecom_agent_id)
        self._secret = settings.wecom_secret
        self._kv = kv
        self._clock = clock
        self._token_wait_s = token_wait_s
        app = f"{self._corp_id}:{self._agent_id}"
        self.token_key = f"wecom:token:{app}"
        self.lock_key = f"wecom:token-lock:{app}"
        self.budget_key = f"wecom:gettoken-budget:{app}"
        timeout = httpx.Timeout(
            connect=settings.wecom_connect_timeout,
            read=settings.wecom_read_timeout,
            write=settings.wecom_read_timeout,
            pool=settings.wecom_connect_timeout,
        )
        self._http = httpx.Client(
            base_url=settings.wecom_api_base.rstrip("/") + "/cgi-bin/",
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        install_log_redaction()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WeComClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- public API ---------------------------------------------------------------------------

    def send(self, touser: str, msg: Mapping[str, Any]) -> dict[str, Any]:
        """message/send. `msg` is {"msgtype": t, t: {...}, ...}; agentid and touser are added.

        Text and markdown get WeCom's server-side duplicate check (4 h) so an outbox resend after a
        crash is not shown twice. A template card whose task_id already exists (42014) was delivered
        before: it is returned as {"errcode": 0, "duplicate": True}.
        """
        msgtype = msg.get("msgtype")
        if not isinstance(msgtype, str) or msgtype not in msg:
            raise ValueError('msg must look like {"msgtype": T, T: {...}}')
        body: dict[str, Any] = dict(msg)
        body["touser"] = touser
        body["agentid"] = self._agent_id
        if msgtype in ("text", "markdown"):
            body.setdefault("enable_duplicate_check", 1)
            body.setdefault("duplicate_check_interval", DUPLICATE_CHECK_INTERVAL_S)
        try:
            data, _ = self._call("POST", "message/send", json_body=body)
        except WeComError as exc:
            if msgtype == "template_card" and exc.errcode == ERR_TASK_ID_EXISTS:
                log.info("wecom POST /cgi-bin/message/send errcode=42014 treated as already delivered")
                return {"errcode": 0, "errmsg": "ok", "duplicate": True}
            raise
        assert data is not None
        return data

    def update_template_card(
        self, userids: Sequence[str], response_code: str, template_card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """message/update_template_card. A used, unknown or expired code raises errcode 60140 (permanent)."""
        body = {
            "userids": list(userids),
            "agentid": self._agent_id,
            "response_code": response_code,
            "template_card": dict(template_card),
        }
        data, _ = self._call("POST", "message/update_template_card", json_body=body)
        assert data is not None
        return data

    def upload_media(self, data: bytes, filename: str, type: str = "image") -> str:
        """media/upload (multipart field `media`); returns the media_id (valid 3 days)."""
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        files = {"media": (filename, data, content_type)}
        result, _ = self._call("POST", "media/upload", params={"type": type}, files=files)
        assert result is not None
        media_id = result.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeComError(
                NETWORK_ERRCODE,
                "media/upload answered without media_id",
                "retry",
                path=_log_path("media/upload"),
            )
        return media_id

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        """media/get; returns (bytes, content_type). A JSON error body raises WeComError."""
        _, response = self._call("GET", "media/get", params={"media_id": media_id}, binary=True)
        content_type = response.headers.get("content-type", "application/octet-stream")
        return response.content, content_type

    def access_token(self) -> str:
        """A valid access_token (cached, refreshed when needed). Never log it."""
        return self._token(reject=None, cause=42001)

    def cache_token(self, token: str, expires_at: float) -> bool:
        """Store `token` unless the cache already holds one that expires at the same time or later.

        Returns whether it was stored. The read-compare-write is not atomic across processes, but
        writers normally hold the refresh lock, so only a writer whose lock expired can race.
        """
        ttl_s = expires_at - self._clock()
        if ttl_s <= 0:
            return False
        current = self._read_cache()
        if current is not None and current.expires_at >= expires_at:
            return False
        self._kv.set(self.token_key, json.dumps({"token": token, "expires_at": expires_at}), ttl_s)
        return True

    # --- token handling -----------------------------------------------------------------------

    def _read_cache(self) -> CachedToken | None:
        raw = self._kv.get(self.token_key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            return CachedToken(str(entry["token"]), float(entry["expires_at"]), raw)
        except (ValueError, KeyError, TypeError):
            return None  # unreadable entry: treat as missing, a refresh overwrites it

    def _usable(self, cached: CachedToken | None, reject: str | None) -> CachedToken | None:
        if cached is None or cached.token == reject or cached.expires_at <= self._clock():
            return None
        return cached

    def _fresh(self, cached: CachedToken | None) -> bool:
        return cached is not None and cached.expires_at - self._clock() > TOKEN_REFRESH_MARGIN_S

    def _token(self, reject: str | None, cause: int) -> str:
        """A token other than `reject`. Single-flight refresh; waiters poll the cache briefly."""
        deadline = time.monotonic() + self._token_wait_s
        while True:
            usable = self._usable(self._read_cache(), reject)
            if usable is not None and self._fresh(usable):
                return usable.token
            lock_value = uuid.uuid4().hex
            if self._kv.set_nx(self.lock_key, lock_value, TOKEN_LOCK_TTL_S):
                try:
                    usable = self._usable(self._read_cache(), reject)  # re-check under the lock
                    if usable is not None and self._fresh(usable):
                        return usable.token
                    try:
                        return self._fetch_token(cause)
                    except WeComError:
                        if usable is not None:  # the old token still works for a while
                            log.warning("wecom token refresh failed; using the cached token until it expires")
                            return usable.token
                        raise
                finally:
                    self._kv.delete_if_equals(self.lock_key, lock_value)
            if usable is not None:
                return usable.token  # still valid; another caller is refreshing it
            if time.monotonic() >= deadline:
                raise WeComError(
                    cause,
                    "timed out waiting for another access_token refresh",
                    "retry",
                    path=_log_path("gettoken"),
                )
            time.sleep(TOKEN_POLL_INTERVAL_S)

    def _fetch_token(self, cause: int) -> str:
        """Call gettoken (bounded to one per app per 10 s) and cache the result. Caller holds the lock."""
        path = "gettoken"
        if not self._kv.set_nx(self.budget_key, "1", GETTOKEN_MIN_INTERVAL_S):
            log.warning(
                "wecom GET %s skipped: at most one gettoken per %ds", _log_path(path), GETTOKEN_MIN_INTERVAL_S
            )
            raise WeComError(
                cause, "access_token refresh rate-limited locally", "token", path=_log_path(path)
            )
        started = self._clock()
        response, elapsed_ms = self._request(
            "GET", path, params={"corpid": self._corp_id, "corpsecret": self._secret}
        )
        data = self._parse_json(response, "GET", path, elapsed_ms)
        errcode = _errcode(data)
        _log_result("GET", path, errcode, elapsed_ms)
        if errcode != 0:
            raise self._error(errcode, data, path, response.status_code)
        token = data.get("access_token")
        expires_in = data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
            raise WeComError(NETWORK_ERRCODE, "malformed gettoken response", "retry", path=_log_path(path))
        expires_at = started + expires_in
        if self.cache_token(token, expires_at):
            log.info("wecom access_token refreshed (expires in %ds)", expires_in)
            return token
        newer = self._usable(self._read_cache(), None)
        return newer.token if newer is not None else token

    def _invalidate(self, token: str) -> None:
        """Drop the cached token, but only if it is still the one that failed."""
        cached = self._read_cache()
        if cached is not None and cached.token == token:
            self._kv.delete_if_equals(self.token_key, cached.raw)

    # --- HTTP -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        binary: bool = False,
    ) -> tuple[dict[str, Any] | None, httpx.Response]:
        """One API call with at most one token refresh and one retry (a loop, never recursion)."""
        token = self._token(reject=None, cause=42001)
        for attempt in range(2):
            query = {**(params or {}), "access_token": token}
            response, elapsed_ms = self._request(method, path, params=query, json_body=json_body, files=files)
            if binary and not _is_json_body(response):
                if response.status_code >= 300:
                    raise self._http_status_error(response, method, path, elapsed_ms)
                _log_result(method, path, 0, elapsed_ms)
                return None, response
            data = self._parse_json(response, method, path, elapsed_ms)
            errcode = _errcode(data)
            _log_result(method, path, errcode, elapsed_ms)
            if errcode == 0:
                return data, response
            if errcode in TOKEN_ERRCODES and attempt == 0:
                self._invalidate(token)
                token = self._token(reject=token, cause=errcode)
                continue
            raise self._error(errcode, data, path, response.status_code, token=token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        json_body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[httpx.Response, int]:
        started = time.monotonic()
        try:
            response = self._http.request(method, path, params=params, json=json_body, files=files)
        except httpx.HTTPError as exc:
            elapsed_ms = int((time.monotonic() - started) * 1000)
            log.warning(
                "wecom %s %s errcode=%d error=%s elapsed_ms=%d",
                method,
                _log_path(path),
                NETWORK_ERRCODE,
                type(exc).__name__,
                elapsed_ms,
            )
            what = "timeout" if isinstance(exc, httpx.TimeoutException) else "network error"
            # `from None`: the httpx exception holds the request, whose URL carries the secrets.
            raise WeComError(
                NETWORK_ERRCODE, f"{what}: {type(exc).__name__}", "retry", path=_log_path(path)
            ) from None
        return response, int((time.monotonic() - started) * 1000)

    def _parse_json(
        self, response: httpx.Response, method: str, path: str, elapsed_ms: int
    ) -> dict[str, Any]:
        if response.status_code >= 300:
            raise self._http_status_error(response, method, path, elapsed_ms)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning(
                "wecom %s %s errcode=%d error=bad_json elapsed_ms=%d",
                method,
                _log_path(path),
                NETWORK_ERRCODE,
                elapsed_ms,
            )
            raise WeComError(
                NETWORK_ERRCODE,
                "response is not a JSON object",
                "retry",
                path=_log_path(path),
                http_status=response.status_code,
            )
        return data

    def _http_status_error(
        self, response: httpx.Response, method: str, path: str, elapsed_ms: int
    ) -> WeComError:
        status = response.status_code
        log.warning(
            "wecom %s %s errcode=%d http_status=%d elapsed_ms=%d",
            method,
            _log_path(path),
            NETWORK_ERRCODE,
            status,
            elapsed_ms,
        )
        kind: ErrorKind = "retry" if status >= 500 else "rate" if status == 429 else "permanent"
        return WeComError(NETWORK_ERRCODE, f"HTTP {status}", kind, path=_log_path(path), http_status=status)

    def _error(
        self, errcode: int, data: Mapping[str, Any], path: str, status: int, token: str | None = None
    ) -> WeComError:
        errmsg = str(data.get("errmsg", ""))
        for secret in (token, self._secret):
            if secret:
                errmsg = errmsg.replace(secret, "***")
        errmsg = redact(errmsg)[:_MAX_ERRMSG_CHARS]
        return WeComError(errcode, errmsg, classify(errcode), path=_log_path(path), http_status=status)


def _log_path(path: str) -> str:
    return "/cgi-bin/" + path


def _log_result(method: str, path: str, errcode: int, elapsed_ms: int) -> None:
    level = logging.DEBUG if errcode == 0 else logging.WARNING
    log.log(level, "wecom %s %s errcode=%d elapsed_ms=%d", method, _log_path(path), errcode, elapsed_ms)


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0))
    except (TypeError, ValueError):
        return NETWORK_ERRCODE


def _is_json_body(response: httpx.Response) -> bool:
    """media/get answers errors as a JSON body; WeCom has used both JSON and text/plain content types."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return True
    return content_type.startswith("text/") and response.content.lstrip()[:1] == b"{"
