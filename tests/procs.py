"""Real processes on loopback for the slow reliability tests and the benchmarks.

- `FakeWeComServer`: the stand-in WeCom API (`FakeWeCom`) served over HTTP by uvicorn in a thread, on a
  free loopback port; `hold_sends()` makes it accept a `message/send` (recorded, delivered to the inbox)
  and then hold the HTTP answer back, so a client can be killed "after WeCom accepted, before marking sent".
- `ServeProcess`: `salesbot serve` (the console script, or `python -m bot.cli` when it is not installed)
  with a given environment; `start()` waits for /healthz, `stop()` always ends it.
- `WorkerProcess`: `salesbot worker`, ready once its heartbeat file exists.
- `post_callback()`: an encrypted, signed callback built with the real crypto.

Everything is bounded in time, and `stop()` is safe to call twice (use it in `finally`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx

from bot.crypto import CallbackCrypto, signature
from demo.fake_wecom import FakeWeCom

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def salesbot_command() -> list[str]:
    exe = shutil.which("salesbot")
    return [exe] if exe else [sys.executable, "-m", "bot.cli"]


class FakeWeComServer:
    """`FakeWeCom` over real HTTP (uvicorn in a daemon thread)."""

    def __init__(self, fake: FakeWeCom) -> None:
        self.fake = fake
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._hold = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def hold_sends(self, on: bool = True) -> None:
        """While on, `message/send` is processed but its answer is held for 60 s (the caller gets killed)."""
        if on:
            self._hold.set()
        else:
            self._hold.clear()

    def _app(self) -> Any:
        inner = self.fake.asgi_app()
        hold = self._hold

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not hold.is_set() or not scope["path"].endswith("message/send"):
                await inner(scope, receive, send)
                return
            started: list[Any] = []

            async def held_send(message: dict[str, Any]) -> None:
                started.append(message)  # processed; do not answer yet

            await inner(scope, receive, held_send)
            with anyio.move_on_after(60):
                while hold.is_set():
                    await anyio.sleep(0.05)
            for message in started:
                await send(message)

        return app

    def start(self) -> FakeWeComServer:
        import uvicorn

        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="error", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-wecom", daemon=True)
        self._thread.start()
        wait_for(lambda: _port_open(self.port), timeout=10, what="fake WeCom server")
        return self

    def stop(self) -> None:
        self._hold.clear()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(predicate: Any, *, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class ServeProcess:
    """One `salesbot serve` on a free loopback port."""

    def __init__(
        self, env: Mapping[str, str], *, args: tuple[str, ...] = ("--no-scheduler",), log_dir: Path
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.args = args
        self.log_path = log_dir / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def spawn(self) -> ServeProcess:
        self._log = self.log_path.open("wb")
        cmd = [*salesbot_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def start(self, timeout: float = 20) -> ServeProcess:
        self.spawn()
        wait_for(self.healthy, timeout=timeout, what=f"salesbot serve on {self.port} ({self.log_path})")
        return self

    def healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"salesbot serve exited with {self.proc.returncode}: {self.log()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no cleanup (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


class WorkerProcess(ServeProcess):
    """One `salesbot worker`; ready once it has written its heartbeat file (after its first poll)."""

    def __init__(
        self, env: Mapping[str, str], *, args: tuple[str, ...] = ("--interval", "0.2"), log_dir: Path
    ) -> None:
        super().__init__(env, args=args, log_dir=log_dir)
        self.log_path = log_dir / f"worker-{self.port}.log"
        self.heartbeat = log_dir / f"worker-{self.port}.alive"

    def spawn(self) -> WorkerProcess:
        self._log = self.log_path.open("wb")
        cmd = [*salesbot_command(), "worker", "--heartbeat", str(self.heartbeat), *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"salesbot worker exited with {self.proc.returncode}: {self.log()}")
        return self.heartbeat.exists()


@contextmanager
def running(*procs: Any) -> Iterator[None]:
    """Stop every process/server given, whatever happens."""
    try:
        yield
    finally:
        for proc in reversed(procs):
            with suppress(Exception):  # cleanup must go on for the others
                proc.stop()


def build_callback(
    crypto: CallbackCrypto, token: str, corp_id: str, agent_id: int, inner_xml: str
) -> tuple[str, bytes]:
    """(query string, body) of a signed, encrypted callback stamped with the real time."""
    encrypted = crypto.encrypt(inner_xml)
    ts = str(int(time.time()))
    nonce = secrets.token_hex(6)
    body = (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{agent_id}]]></AgentID></xml>"
    )
    query = urlencode(
        {"msg_signature": signature(token, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    )
    return query, body.encode()


def text_xml(corp_id: str, agent_id: int, userid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>"
    )
