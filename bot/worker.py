"""The background thread of `serve`: handles accepted messages, then delivers the outbox.

It wakes when the request path accepts a message or a transaction enqueues replies, and at least every
`interval` seconds, so rows left behind by a crash or a retry backoff are picked up without a scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from bot.dispatcher import Dispatcher
from bot.outbox import Deliverer

log = logging.getLogger("salesbot.worker")

STEP_ASIDE_FACTOR = 10
STEP_ASIDE_MAX_S = 0.2


class Worker:
    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        deliverer: Deliverer,
        clock: Callable[[], datetime],
        interval: float = 1.0,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.dispatcher = dispatcher
        self.deliverer = deliverer
        self.clock = clock
        self.interval = interval
        self.busy = busy
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed = time.monotonic()

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="salesbot-worker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None

    def run_once(self) -> None:
        """One round: accepted messages handled, then one delivery round.

        While callbacks are in flight the worker steps aside between messages (the GIL is shared), so
        acknowledging WeCom stays fast under a burst and the backlog is worked off right after it.
        """
        self._resumed = time.monotonic()
        self.dispatcher.process_pending(limit=500, pause=self._step_aside)
        self.deliverer.run_once(now=self.clock())

    def _step_aside(self) -> None:
        """While callbacks are in flight, sleep ten times what the last message took (at most 0.2 s).

        The worker then holds the GIL for under a tenth of a burst, and a steady moderate load still
        leaves it most of the time, so the backlog cannot grow without bound.
        """
        spent = time.monotonic() - self._resumed
        if self.busy():
            time.sleep(min(STEP_ASIDE_MAX_S, max(0.002, spent * STEP_ASIDE_FACTOR)))
        self._resumed = time.monotonic()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("worker round failed")
