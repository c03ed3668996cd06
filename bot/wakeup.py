"""Waking worker processes: PostgreSQL LISTEN/NOTIFY, so an idle worker does not poll the database.

The request path's INSERT notifies `salesbot_inbound` in the same statement (bot/accept.py); a notification
is delivered only when that transaction commits, so a woken worker always finds the rows. A lost
notification (a dropped connection) costs at most the worker's poll interval, never a message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("salesbot.wakeup")

INBOUND_CHANNEL = "salesbot_inbound"


class PgListener:
    """A daemon thread holding one autocommit connection in LISTEN; calls `wake` on every notification."""

    def __init__(self, dsn: str, wake: Callable[[], None], *, channel: str = INBOUND_CHANNEL) -> None:
        self.dsn = dsn
        self.wake = wake
        self.channel = channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PgListener:
        self._thread = threading.Thread(target=self._run, name="salesbot-listen", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self.wake()  # anything accepted while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except Exception as exc:  # the database went away: the poll interval covers the gap
                log.warning("listen connection lost (%s); retrying", type(exc).__name__)
                self._stop.wait(1.0)
