"""One KV contract, run against MemoryKV and RedisKV (TEST_REDIS_URL if set, else fakeredis)."""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis

from bot.kv import KV, FallbackKV, KVUnavailable, MemoryKV, RedisKV, make_kv
from tests.fixtures_wecom import FakeClock


@dataclass
class Backend:
    kv: KV
    advance: Callable[[float], None]  # let `seconds` pass for TTL purposes


def _redis_kv() -> RedisKV:
    url = os.environ.get("TEST_REDIS_URL")
    prefix = f"test:{uuid.uuid4().hex}:"
    if url:
        return RedisKV.from_url(url, prefix=prefix)
    if importlib.util.find_spec("lupa") is None:
        pytest.skip("fakeredis needs lupa (fakeredis[lua]) for Lua scripts; set TEST_REDIS_URL instead")
    import fakeredis

    return RedisKV(fakeredis.FakeRedis(), prefix=prefix)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        clock = FakeClock()
        yield Backend(MemoryKV(clock=clock), clock.advance)
    else:
        kv = _redis_kv()
        yield Backend(kv, time.sleep)  # Redis expires keys on its own clock
        _drop_prefix(kv)


def _drop_prefix(kv: RedisKV) -> None:
    keys = list(kv._client.scan_iter(match=kv._prefix + "*"))
    if keys:
        kv._client.delete(*keys)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_get_set_and_ttl(backend: Backend) -> None:
    kv = backend.kv
    assert kv.get("missing") is None
    kv.set("k", "v")
    assert kv.get("k") == "v"
    kv.set("k", "w", ttl_s=0.2)
    assert kv.get("k") == "w"
    backend.advance(0.35)
    assert kv.get("k") is None
    kv.set("unicode", "令牌-✓")
    assert kv.get("unicode") == "令牌-✓"


def test_set_nx_is_exclusive_until_expiry(backend: Backend) -> None:
    kv = backend.kv
    assert kv.set_nx("lock", "a", 0.2) is True
    assert kv.set_nx("lock", "b", 0.2) is False
    assert kv.get("lock") == "a"
    backend.advance(0.35)
    assert kv.set_nx("lock", "b", 5) is True
    assert kv.get("lock") == "b"


def test_delete_if_equals_only_deletes_own_value(backend: Backend) -> None:
    kv = backend.kv
    kv.set("lock", "mine")
    assert kv.delete_if_equals("lock", "theirs") is False
    assert kv.get("lock") == "mine"
    assert kv.delete_if_equals("lock", "mine") is True
    assert kv.get("lock") is None
    assert kv.delete_if_equals("lock", "mine") is False


def test_incr_sets_ttl_on_first_increment_only(backend: Backend) -> None:
    kv = backend.kv
    assert kv.incr("budget", 0.3) == 1
    backend.advance(0.15)
    assert kv.incr("budget", 0.3) == 2  # does not extend the window
    backend.advance(0.25)
    assert kv.incr("budget", 0.3) == 1


def test_incr_on_non_integer_raises_value_error(backend: Backend) -> None:
    backend.kv.set("text", "abc")
    with pytest.raises(ValueError):
        backend.kv.incr("text", 5)


def test_set_nx_under_contention_has_one_winner(backend: Backend) -> None:
    kv = backend.kv
    winners: list[int] = []
    barrier = threading.Barrier(16)

    def contend(i: int) -> None:
        barrier.wait()
        if kv.set_nx("race", str(i), 5):
            winners.append(i)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert kv.get("race") == str(winners[0])


def test_ping(backend: Backend) -> None:
    assert backend.kv.ping() is True


def test_redis_down_raises_kv_unavailable_fast() -> None:
    kv = RedisKV.from_url(f"redis://127.0.0.1:{_closed_port()}/0")
    started = time.monotonic()
    for call in (
        lambda: kv.get("k"),
        lambda: kv.set("k", "v", 1),
        lambda: kv.set_nx("k", "v", 1),
        lambda: kv.delete_if_equals("k", "v"),
        lambda: kv.incr("k", 1),
    ):
        with pytest.raises(KVUnavailable):
            call()
    assert kv.ping() is False
    assert time.monotonic() - started < 5


class _DownKV:
    """A primary that is always unavailable."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self, key: str) -> str | None:
        self.calls += 1
        raise KVUnavailable("down")

    def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        raise KVUnavailable("down")

    def set_nx(self, key: str, value: str, ttl_s: float) -> bool:
        raise KVUnavailable("down")

    def delete_if_equals(self, key: str, value: str) -> bool:
        raise KVUnavailable("down")

    def incr(self, key: str, ttl_s: float) -> int:
        raise KVUnavailable("down")

    def ping(self) -> bool:
        return False


def test_fallback_serves_from_memory_and_warns_at_most_every_30s(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    kv = FallbackKV(_DownKV(), MemoryKV(clock=clock), clock=clock, retry_after_s=0)  # try Redis every call
    caplog.set_level(logging.WARNING, logger="salesbot.kv")
    kv.set("a", "1")
    assert kv.get("a") == "1"
    assert kv.set_nx("lock", "x", 10) is True
    assert kv.set_nx("lock", "y", 10) is False
    assert kv.delete_if_equals("lock", "x") is True
    assert kv.incr("n", 10) == 1
    assert kv.ping() is False
    warnings = [r for r in caplog.records if r.name == "salesbot.kv"]
    assert len(warnings) == 1
    clock.advance(31)
    kv.get("a")
    assert len([r for r in caplog.records if r.name == "salesbot.kv"]) == 2


def test_fallback_prefers_primary_when_up(backend: Backend) -> None:
    kv = FallbackKV(backend.kv, MemoryKV())
    kv.set("shared", "yes")
    assert backend.kv.get("shared") == "yes"
    assert kv.ping() is True


def test_make_kv() -> None:
    assert isinstance(make_kv(None), MemoryKV)
    assert isinstance(make_kv(""), MemoryKV)
    kv = make_kv(f"redis://127.0.0.1:{_closed_port()}/0")
    assert isinstance(kv, FallbackKV)
    kv.set("k", "v", 5)  # Redis is down: served by the in-process fallback
    assert kv.get("k") == "v"
    assert kv.ping() is False


def test_redis_kv_uses_short_socket_timeouts() -> None:
    kv = RedisKV.from_url("redis://127.0.0.1:6379/0")
    kwargs = kv._client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 0.5
    assert kwargs["socket_connect_timeout"] == 0.5
    assert isinstance(kv._client, redis.Redis)


def test_fallback_skips_a_failed_primary_for_a_while() -> None:
    clock = FakeClock()
    primary = _DownKV()
    kv = FallbackKV(primary, MemoryKV(clock=clock), clock=clock, retry_after_s=5)
    for _ in range(10):
        kv.get("a")
    assert primary.calls == 1
    clock.advance(5)
    kv.get("a")
    assert primary.calls == 2
