"""The photo thread: downloads visit photos after the visit's transaction committed (services/photos.py).

It has its own thread and a small pool, so a media API that hangs holds at most `workers` downloads and never
the message worker: other people's messages are handled and answered meanwhile. It wakes when a 拜访 with
photos commits and every `interval` seconds for retries and for photos a crash left claimed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.wecom import WeComClient, WeComError
from services import photos

log = logging.getLogger("salesbot.photos")


def media_fetcher(client: WeComClient) -> photos.FetchMedia:
    """`client.get_media`, with WeCom's permanent errors (an expired or unknown media id) marked as such."""

    def fetch(media_id: str) -> tuple[bytes, str]:
        try:
            return client.get_media(media_id)
        except WeComError as exc:
            if exc.kind == "permanent":
                raise photos.MediaGone(str(exc)) from exc
            raise

    return fetch


class PhotoFetcher:
    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        fetch_media: photos.FetchMedia | None,
        media_dir: Path,
        clock: Callable[[], datetime],
        workers: int = 2,
        interval: float = 5.0,
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.fetch_media = fetch_media
        self.media_dir = Path(media_dir)
        self.clock = clock
        self.workers = workers
        self.interval = interval
        self.on_committed = on_committed
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Claim the due photos, download them (at most `workers` at a time), record each; how many were tried."""
        with self.session_factory() as session, session.begin():
            jobs = photos.claim_due(session, now=self.clock(), limit=self.workers * 4)
        if not jobs:
            return 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="salesbot-photo") as pool:
            outcomes = list(
                pool.map(
                    lambda job: photos.download(job, fetch_media=self.fetch_media, media_dir=self.media_dir),
                    jobs,
                )
            )
        for job, outcome in zip(jobs, outcomes, strict=True):
            with self.session_factory() as session, session.begin():
                photos.record(session, job, outcome, now=self.clock())
        if self.on_committed is not None:
            self.on_committed()  # a failure notice may be waiting in the outbox
        return len(jobs)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="salesbot-photos", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                while self.run_once() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("photo round failed")
