"""The worker: handles accepted messages in batches and delivers their replies; no HTTP.

It runs as a thread inside `salesbot serve` (the single-process default) or as the whole of a `salesbot
worker` process (any number of them, on any machines, sharing one PostgreSQL; docs/worker.md).

One round = one transaction: it claims up to `batch` users' oldest messages, handles each in its own
savepoint, writes every reply already claimed for this process, and marks the previous round's sends;
the replies are sent right after the commit. It wakes on a PostgreSQL notification (bot/wakeup.py) or
the request path's in-process signal, lingers a few milliseconds so a burst becomes one batch, and polls
every `interval` seconds for outbox rows that are due (retries, scheduled jobs, a dead worker's rows).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.dispatcher import Dispatcher
from bot.outbox import Deliverer, DeliveryStats
from bot.outbox_batch import PendingMarks

log = logging.getLogger("salesbot.worker")

STEP_ASIDE_FACTOR = 10
STEP_ASIDE_MAX_S = 0.2
# After a batch whose users have later messages waiting (the claim says so), the next claim comes this soon
# without a wake-up: such a message becomes claimable only once the previous one has committed, and its
# notification is already spent. Otherwise a partial batch means nothing is left: wait for a notification.
SETTLE_S = 0.05
LINGER_MAX_S = 0.32


class Worker:
    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        deliverer: Deliverer,
        clock: Callable[[], datetime],
        interval: float = 1.0,
        batch: int = 32,
        linger: float = 0.02,
        busy: Callable[[], bool] | None = None,
        heartbeat: Path | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.deliverer = deliverer
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self.linger = linger
        self.busy = busy
        self.heartbeat = heartbeat
        self.marks = PendingMarks()
        self._linger_now = linger
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed = time.monotonic()
        self._poll_now = False
        self._more = False

    def notify(self) -> None:
        """Rows were written to the outbox (a job, a process_pending round): poll it at once."""
        self._poll_now = True
        self._wake.set()

    def notify_inbound(self) -> None:
        """Messages were accepted: claim them (no outbox poll)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="salesbot-worker", daemon=True)
            self._thread.start()

    def stop_soon(self) -> None:
        """From a signal handler: finish the current round, write the pending marks, return."""
        self._stop.set()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None

    def run_once(self) -> int:
        """Handle everything accepted, then one delivery poll (tests and `jobs run` use this)."""
        handled = 0
        while True:
            count = self.handle_round()
            handled += count
            if count == 0:
                break
        self.poll()
        return handled

    def handle_round(self) -> int:
        """One batch: claim, handle, commit (with the previous round's 'sent' marks), then send its replies."""
        stats = DeliveryStats()
        batch = self.dispatcher.handle_batch(
            limit=self.batch, deliverer=self.deliverer, marks=self.marks, stats=stats
        )
        self._more = batch.more
        if batch.outbox:
            self.deliverer.send_rows(batch.outbox, now=self.clock(), stats=stats, marks=self.marks)
        return batch.handled

    def poll(self) -> None:
        """Rows due in the outbox (retries, jobs' messages, leases run out); writes pending marks too."""
        self.deliverer.run_once(now=self.clock(), marks=self.marks)
        self.deliverer.flush(self.marks)

    def run_forever(self) -> None:
        next_poll = 0.0
        timeout = 0.0
        self._linger_now = self.linger
        while not self._stop.is_set():
            woke = self._wake.wait(timeout)
            self._wake.clear()
            if self._stop.is_set():
                break
            if woke and timeout > SETTLE_S and self.linger:
                # From idle: let a burst's callbacks commit and claim them together. Every worker hears every
                # notification; one that keeps finding nothing waits longer each time (up to LINGER_MAX_S), so
                # idle workers do not each spend a transaction per message on empty claims.
                self._stop.wait(self._linger_now)
            try:
                self._resumed = time.monotonic()
                handled = self.handle_round()
                if self._poll_now or time.monotonic() >= next_poll:
                    self._poll_now = False
                    self.poll()
                    next_poll = time.monotonic() + self.interval
                    self._beat()
            except (OperationalError, DBAPIError):
                log.warning("database unavailable; the worker retries in %.0f s", self.interval)
                handled, next_poll = 0, time.monotonic() + self.interval
            except Exception:
                log.exception("worker round failed")
                handled, next_poll = 0, time.monotonic() + self.interval
            if handled:
                self._linger_now = self.linger
            elif woke:
                self._linger_now = min(LINGER_MAX_S, self._linger_now * 2)
            if handled >= self.batch:
                timeout = 0.0
                self._step_aside()
            elif handled and self._more:
                timeout = SETTLE_S
            else:
                timeout = max(0.0, next_poll - time.monotonic())
        self._final_flush()

    def _final_flush(self) -> None:
        try:
            self.deliverer.flush(self.marks)
        except Exception:  # the rows keep their lease and are re-sent once it runs out (duplicate check)
            log.warning("could not mark the last sends; they will be re-sent after their lease")

    def _step_aside(self) -> None:
        """Inside `serve` only: while callbacks are in flight, sleep ten times what the last batch took.

        The thread shares the GIL with the request path; this keeps acknowledging WeCom fast under a
        burst (bench/README.md). A separate `salesbot worker` has nothing to step aside for.
        """
        if self.busy is None:
            return
        spent = time.monotonic() - self._resumed
        if self.busy():
            time.sleep(min(STEP_ASIDE_MAX_S, max(0.002, spent * STEP_ASIDE_FACTOR)))
        self._resumed = time.monotonic()

    def _beat(self) -> None:
        if self.heartbeat is not None:
            try:
                self.heartbeat.touch()
                os.utime(self.heartbeat)
            except OSError:
                log.warning("cannot write the heartbeat file %s", self.heartbeat)
