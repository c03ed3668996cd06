"""A small shared key-value store for the token cache, locks and rate budgets.

Two implementations sit behind one `KV` protocol:

- `MemoryKV`: in-process, thread-safe, honours TTLs against an injectable monotonic clock.
- `RedisKV`: shared across replicas. Every Redis failure surfaces as `KVUnavailable`, so callers
  (normally `FallbackKV`) can degrade to the in-process store instead of failing the request.

Values are strings. TTLs are seconds (floats allowed); Redis stores them with millisecond precision.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

import redis

log = logging.getLogger("salesbot.kv")

Clock = Callable[[], float]
T = TypeVar("T")

REDIS_SOCKET_TIMEOUT_S = 0.5
FALLBACK_WARN_INTERVAL_S = 30.0

# Compare-and-delete: release a lock (or drop a cache entry) only if it still holds our value.
_DELETE_IF_EQUALS_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# Increment; give the key its TTL on first increment (or if it somehow has none), never extend it.
_INCR_WITH_TTL_LUA = """
local value = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return value
"""


class KVUnavailable(RuntimeError):
    """The backing store cannot be reached (or answered with an error); callers may fall back."""


@runtime_checkable
class KV(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    def set_nx(self, key: str, value: str, ttl_s: float) -> bool: ...

    def delete_if_equals(self, key: str, value: str) -> bool: ...

    def incr(self, key: str, ttl_s: float) -> int: ...

    def ping(self) -> bool: ...


def _ttl_ms(ttl_s: float) -> int:
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    return max(1, int(ttl_s * 1000))


class MemoryKV:
    """In-process KV. Thread-safe; expired keys are dropped lazily on access."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._data: dict[str, tuple[str, float | None]] = {}

    def _live(self, key: str) -> str | None:
        """Current value of `key`, deleting it if expired. Caller holds the lock."""
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and self._clock() >= expires_at:
            del self._data[key]
            return None
        return value

    def _expiry(self, ttl_s: float | None) -> float | None:
        if ttl_s is None:
            return None
        _ttl_ms(ttl_s)  # validates
        return self._clock() + ttl_s

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, self._expiry(ttl_s))

    def set_nx(self, key: str, value: str, ttl_s: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._expiry(ttl_s))
            return True

    def delete_if_equals(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) != value:
                return False
            del self._data[key]
            return True

    def incr(self, key: str, ttl_s: float) -> int:
        with self._lock:
            current = self._live(key)
            if current is None:
                self._data[key] = ("1", self._expiry(ttl_s))
                return 1
            try:
                new = int(current) + 1
            except ValueError:
                raise ValueError(f"value of {key!r} is not an integer") from None
            self._data[key] = (str(new), self._data[key][1])
            return new

    def ping(self) -> bool:
        return True


class RedisKV:
    """KV on a `redis.Redis` client. Any Redis error is raised as `KVUnavailable`."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._client = client
        self._prefix = prefix
        self._delete_if_equals = client.register_script(_DELETE_IF_EQUALS_LUA)
        self._incr = client.register_script(_INCR_WITH_TTL_LUA)

    @classmethod
    def from_url(cls, url: str, prefix: str = "") -> RedisKV:
        client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
            health_check_interval=30,
        )
        return cls(client, prefix=prefix)

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _unavailable(exc: Exception) -> KVUnavailable:
        # The class name only: messages may carry host names or (for ACL errors) user names.
        return KVUnavailable(f"redis unavailable: {type(exc).__name__}")

    @staticmethod
    def _text(raw: object) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, bytes):
            return raw.decode("utf-8")
        return str(raw)

    def get(self, key: str) -> str | None:
        try:
            return self._text(self._client.get(self._k(key)))
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        px = None if ttl_s is None else _ttl_ms(ttl_s)
        try:
            self._client.set(self._k(key), value, px=px)
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def set_nx(self, key: str, value: str, ttl_s: float) -> bool:
        px = _ttl_ms(ttl_s)
        try:
            return bool(self._client.set(self._k(key), value, px=px, nx=True))
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def delete_if_equals(self, key: str, value: str) -> bool:
        try:
            return bool(self._delete_if_equals(keys=[self._k(key)], args=[value]))
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def incr(self, key: str, ttl_s: float) -> int:
        px = _ttl_ms(ttl_s)
        try:
            return int(self._incr(keys=[self._k(key)], args=[px]))
        except redis.ResponseError as exc:
            if "not an integer" in str(exc):
                raise ValueError(f"value of {key!r} is not an integer") from None
            raise self._unavailable(exc) from None
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from None

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except (redis.RedisError, OSError):
            return False


class FallbackKV:
    """Use `primary`; when it raises `KVUnavailable`, serve the call from `fallback` instead.

    After a failure the primary is skipped for `retry_after_s` (so a blackholed Redis costs one
    socket timeout per interval, not one per call), then tried again. While degraded, locks and
    budgets are per process only (advisory, as all locks here are); correctness must still come from
    database constraints. A warning is logged at most once per `FALLBACK_WARN_INTERVAL_S`.
    """

    def __init__(
        self, primary: KV, fallback: KV, clock: Clock = time.monotonic, retry_after_s: float = 5.0
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self._clock = clock
        self._retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._last_warning: float | None = None
        self._skip_primary_until: float | None = None

    def _use_primary(self) -> bool:
        with self._lock:
            return self._skip_primary_until is None or self._clock() >= self._skip_primary_until

    def _degraded(self, exc: KVUnavailable) -> None:
        now = self._clock()
        with self._lock:
            self._skip_primary_until = now + self._retry_after_s
            if self._last_warning is not None and now - self._last_warning < FALLBACK_WARN_INTERVAL_S:
                return
            self._last_warning = now
        log.warning("shared kv unavailable (%s); using the in-process fallback", exc)

    def _run(self, op: Callable[[KV], T]) -> T:
        if self._use_primary():
            try:
                return op(self.primary)
            except KVUnavailable as exc:
                self._degraded(exc)
        return op(self.fallback)

    def get(self, key: str) -> str | None:
        return self._run(lambda kv: kv.get(key))

    def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._run(lambda kv: kv.set(key, value, ttl_s))

    def set_nx(self, key: str, value: str, ttl_s: float) -> bool:
        return self._run(lambda kv: kv.set_nx(key, value, ttl_s))

    def delete_if_equals(self, key: str, value: str) -> bool:
        return self._run(lambda kv: kv.delete_if_equals(key, value))

    def incr(self, key: str, ttl_s: float) -> int:
        return self._run(lambda kv: kv.incr(key, ttl_s))

    def ping(self) -> bool:
        """Whether the shared (primary) store is reachable; the KV keeps working either way."""
        return self.primary.ping()


def make_kv(redis_url: str | None) -> KV:
    """In-process KV without a URL; Redis with an in-process fallback with one."""
    if not redis_url:
        return MemoryKV()
    return FallbackKV(RedisKV.from_url(redis_url), MemoryKV())
