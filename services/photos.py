"""Visit photos after commit: a 拜访 records its photos `pending`; they are downloaded afterwards, outside any
transaction, a few at a time and retried, so a slow or hanging media API never holds the message's
transaction or anyone else's messages (issue 16 #9; reliability.md: slow I/O never inside a transaction).

Three steps, each short: `claim_due` (a transaction: take due photos, pushing their next attempt out by a
lease so a crash retries them), `download` (no database: fetch and write the file), `record` (a transaction:
saved, or retried later with backoff, or failed — the visitor is told once per visit when photos are lost).
bot/photos.py runs them on its own thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chat.outbox import enqueue
from chat.replies import Text
from models import Customer, PhotoStatus, Visit, VisitPhoto
from models.db import affected
from services.media import save_photo

log = logging.getLogger("salesbot.photos")

FetchMedia = Callable[[str], tuple[bytes, str]]
MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=2)  # a claimed download not recorded by then (a crash) is tried again
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2))


class MediaGone(Exception):
    """The media API says this media id will never download (expired or unknown): do not retry."""


@dataclass(frozen=True)
class PhotoJob:
    photo_id: int
    media_id: str
    visit_id: int
    n: int  # the photo's number within its visit (the file name)
    visited_at: datetime
    attempt: int


@dataclass(frozen=True)
class Outcome:
    path: Path | None = None
    error: str | None = None
    permanent: bool = False


def claim_due(session: Session, *, now: datetime, limit: int) -> list[PhotoJob]:
    """Pending photos whose attempt is due, each claimed by a conditional update (one claimer wins)."""
    rows = session.execute(
        select(VisitPhoto.id, VisitPhoto.attempts)
        .where(
            VisitPhoto.status == PhotoStatus.PENDING,
            (VisitPhoto.next_attempt_at.is_(None)) | (VisitPhoto.next_attempt_at <= now),
        )
        .order_by(VisitPhoto.id)
        .limit(limit)
    ).all()
    jobs: list[PhotoJob] = []
    for photo_id, attempts in rows:
        claimed = affected(
            session.execute(
                update(VisitPhoto)
                .where(
                    VisitPhoto.id == photo_id,
                    VisitPhoto.status == PhotoStatus.PENDING,
                    VisitPhoto.attempts == attempts,
                )
                .values(attempts=attempts + 1, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed != 1:
            continue
        photo = session.get_one(VisitPhoto, photo_id)
        visit = session.get_one(Visit, photo.visit_id)
        n = (
            session.scalar(
                select(func.count())
                .select_from(VisitPhoto)
                .where(VisitPhoto.visit_id == visit.id, VisitPhoto.id <= photo_id)
            )
            or 1
        )
        jobs.append(PhotoJob(photo_id, photo.media_id, visit.id, n, visit.visited_at, attempts + 1))
    return jobs


def download(job: PhotoJob, *, fetch_media: FetchMedia | None, media_dir: Path) -> Outcome:
    """Fetch and store one photo. No database here: this is the slow part."""
    try:
        if fetch_media is None:
            raise MediaGone("no media client")
        data, content_type = fetch_media(job.media_id)
        if not data or content_type.split(";")[0].strip().lower() in ("application/json", "text/plain"):
            raise MediaGone(f"not an image ({content_type})")
        path = save_photo(
            media_dir,
            visit_id=job.visit_id,
            n=job.n,
            data=data,
            content_type=content_type,
            now=job.visited_at,
        )
        return Outcome(path=path)
    except Exception as exc:  # a lost photo must not lose anything else
        log.warning(
            "visit %s photo %s not saved (attempt %s): %s",
            job.visit_id,
            job.n,
            job.attempt,
            type(exc).__name__,
        )
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:255], permanent=isinstance(exc, MediaGone))


def record(session: Session, job: PhotoJob, outcome: Outcome, *, now: datetime) -> None:
    """Write the outcome; when the visit's last pending photo ends and some failed, tell the visitor once."""
    photo = session.get_one(VisitPhoto, job.photo_id)
    if photo.status != PhotoStatus.PENDING:
        return
    if outcome.path is not None:
        photo.status, photo.path, photo.error, photo.next_attempt_at = (
            PhotoStatus.SAVED,
            str(outcome.path),
            None,
            None,
        )
    elif outcome.permanent or job.attempt >= MAX_ATTEMPTS:
        photo.status, photo.error, photo.next_attempt_at = PhotoStatus.FAILED, outcome.error, None
    else:
        photo.error = outcome.error
        photo.next_attempt_at = now + BACKOFF[min(job.attempt, len(BACKOFF)) - 1]
        return
    session.flush()
    statuses = list(session.scalars(select(VisitPhoto.status).where(VisitPhoto.visit_id == job.visit_id)))
    failed = statuses.count(PhotoStatus.FAILED)
    if PhotoStatus.PENDING in statuses or not failed:
        return
    visit = session.get_one(Visit, job.visit_id)
    customer = session.scalar(select(Customer.name).where(Customer.id == visit.customer_id)) or ""
    text = (
        f"拜访「{customer}」已记录，但有 {failed} 张照片未能保存（下载失败）。"
        "如需要，请重新发送照片后再记一次拜访。"
    )
    enqueue(session, reply=Text(text), recipient=visit.userid, dedup_key=f"photos-failed:{visit.id}", now=now)
