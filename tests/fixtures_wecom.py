"""Shared WeCom fixtures: a `FakeWeCom` and a `WeComClient` wired to it in process (no network).

tests/conftest.py imports `fake_wecom` and `wecom_client`; each fixture depends only on the ones here.
Fake, client and MemoryKV share one `FakeClock` (`clock_of(fake_wecom)`), so tests move time (token
expiry, the 10 s gettoken budget, response_code lifetime) without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.kv import KV, MemoryKV
from bot.wecom import WeComClient
from chat.settings import Settings
from demo.fake_wecom import FakeWeCom

FAKE_API_BASE = "http://wecom.fake.invalid"  # never resolved: requests go to the MockTransport
START_TIME = 1_700_000_000.0


class FakeClock:
    """A settable wall clock: call it for the time, `advance(s)` to move it."""

    def __init__(self, start: float = START_TIME) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def wecom_settings_for(fake: FakeWeCom, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "wecom_corp_id": fake.corp_id,
        "wecom_agent_id": fake.agent_id,
        "wecom_secret": fake.secret,
        "wecom_api_base": FAKE_API_BASE,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def clock_of(fake: FakeWeCom) -> FakeClock:
    """The FakeClock a `fake_wecom` fixture runs on."""
    assert isinstance(fake.clock, FakeClock)
    return fake.clock


def client_for(fake: FakeWeCom, kv: KV | None = None, **settings: Any) -> WeComClient:
    """A WeComClient on `fake`'s MockTransport and clock (MemoryKV on the same clock by default)."""
    clock = clock_of(fake)
    return WeComClient(
        wecom_settings_for(fake, **settings),
        kv if kv is not None else MemoryKV(clock=clock),
        transport=fake.transport(),
        clock=clock,
    )


@pytest.fixture
def fake_wecom() -> FakeWeCom:
    """A FakeWeCom on its own FakeClock (`clock_of(fake_wecom).advance(s)` moves time)."""
    return FakeWeCom(clock=FakeClock())


@pytest.fixture
def wecom_client(fake_wecom: FakeWeCom) -> Iterator[WeComClient]:
    """A WeComClient on `fake_wecom`'s transport with a MemoryKV, sharing its clock."""
    client = client_for(fake_wecom)
    yield client
    client.close()
