"""Visits: pending location/photos kept for the next 拜访, the visit itself and the distance check."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chat import preloaded
from chat.errors import DomainError
from models import Customer, PendingMedia, PhotoStatus, User, Visit, VisitPhoto
from services import audit, leads
from services.config import BusinessConfig

log = logging.getLogger("salesbot.visits")

MAX_PHOTOS = 9
REPEAT_WINDOW = timedelta(minutes=10)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def valid_coordinates(lat: float | None, lng: float | None) -> bool:
    return (
        lat is not None
        and lng is not None
        and -90 <= lat <= 90
        and -180 <= lng <= 180
        and (lat, lng) != (0, 0)
    )


def keep_location(
    session: Session,
    *,
    userid: str,
    lat: float | None,
    lng: float | None,
    label: str | None,
    now: datetime,
    automatic: bool,
) -> bool:
    """Keep a location for the next 拜访. Automatic LOCATION events replace the previous automatic one."""
    if not valid_coordinates(lat, lng):
        return False
    kind = "location_event" if automatic else "location"
    if automatic:
        session.execute(
            delete(PendingMedia).where(
                PendingMedia.userid == userid, PendingMedia.kind == kind, PendingMedia.visit_id.is_(None)
            )
        )
    session.add(
        PendingMedia(userid=userid, kind=kind, latitude=lat, longitude=lng, label=label, received_at=now)
    )
    session.flush()
    return True


def keep_image(session: Session, *, userid: str, media_id: str | None, now: datetime) -> bool:
    if not media_id:
        return False
    session.add(PendingMedia(userid=userid, kind="image", media_id=media_id, received_at=now))
    session.flush()
    return True


@dataclass
class VisitResult:
    visit: Visit
    customer: Customer
    photos_pending: int
    location_label: str | None
    located: bool


PRELOADED_MEDIA = "visits.pending_media"
PRELOADED_RECENT = "visits.recent"


def preload(session: Session, *, users: list[User], now: datetime, config: BusinessConfig) -> None:
    """A worker's batch of 拜访 (chat/preloaded.py): every sender's pending media, recent visits and customers
    whose lead awaits its first visit, three queries for the whole batch instead of three per message.

    `now`: the batch's earliest message time; each message filters its own window from these rows."""
    userids = sorted({user.userid for user in users})
    media: dict[str, list[PendingMedia]] = {userid: [] for userid in userids}
    since = now - timedelta(minutes=config.visits.media_window_minutes)
    for item in session.scalars(
        select(PendingMedia)
        .where(
            PendingMedia.userid.in_(userids),
            PendingMedia.visit_id.is_(None),
            PendingMedia.received_at >= since,
        )
        .order_by(PendingMedia.received_at, PendingMedia.id)
    ):
        media[item.userid].append(item)
    recent: dict[str, list[Visit]] = {userid: [] for userid in userids}
    for visit in session.scalars(
        select(Visit).where(Visit.userid.in_(userids), Visit.visited_at >= now - REPEAT_WINDOW)
    ):
        recent[visit.userid].append(visit)
    preloaded.put(session, PRELOADED_MEDIA, media)
    preloaded.put(session, PRELOADED_RECENT, recent)
    leads.preload_awaiting_visit(session, owners=userids)


def _pending(session: Session, *, userid: str, since: datetime) -> list[PendingMedia]:
    known, rows = preloaded.take(session, PRELOADED_MEDIA, userid)
    if known:
        return [p for p in rows if p.visit_id is None and p.received_at >= since]
    return list(
        session.scalars(
            select(PendingMedia)
            .where(
                PendingMedia.userid == userid,
                PendingMedia.visit_id.is_(None),
                PendingMedia.received_at >= since,
            )
            .order_by(PendingMedia.received_at, PendingMedia.id)
        )
    )


def record_visit(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    customer: Customer,
    summary: str,
    now: datetime,
) -> VisitResult:
    """Log a visit by `user` on `customer` (already resolved within scope) with the recent pending media.

    Photos are recorded `pending` and downloaded after commit (services/photos.py; media ids expire after
    3 days), so a slow media API never holds this transaction.
    """
    summary = summary.strip()
    if not summary:
        raise DomainError("请写上拜访纪要。")
    since = now - timedelta(minutes=config.visits.media_window_minutes)
    pending = _pending(session, userid=user.userid, since=since)
    locations = [p for p in pending if p.kind == "location"] or [
        p for p in pending if p.kind == "location_event"
    ]
    location = locations[-1] if locations else None
    images = [p for p in pending if p.kind == "image"][:MAX_PHOTOS]

    visit = Visit(customer_id=customer.id, userid=user.userid, summary=summary, visited_at=now, photo_count=0)
    if location is not None:
        visit.latitude, visit.longitude = location.latitude, location.longitude
        visit.location_label = location.label or ("自动定位" if location.kind == "location_event" else None)
    session.add(visit)
    session.flush()

    if location is not None and visit.latitude is not None and visit.longitude is not None:
        if customer.latitude is not None and customer.longitude is not None:
            visit.distance_m = haversine_m(
                customer.latitude, customer.longitude, visit.latitude, visit.longitude
            )
            visit.location_anomaly = visit.distance_m > config.visits.anomaly_distance_km * 1000
        else:
            customer.latitude, customer.longitude = visit.latitude, visit.longitude
            customer.updated_at = now
            audit.record(
                session,
                actor=user.userid,
                entity="customer",
                entity_id=customer.id,
                action="locate",
                now=now,
                changes={"latitude": [None, visit.latitude], "longitude": [None, visit.longitude]},
                detail=f"visit {visit.id}",
            )

    for image in images:  # downloaded after commit (services/photos.py), never inside this transaction
        session.add(
            VisitPhoto(
                visit_id=visit.id,
                media_id=image.media_id or "",
                status=PhotoStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
    visit.photo_count = len(images)
    for p in ([location] if location is not None else []) + images:
        p.visit_id = visit.id
    audit.record(
        session,
        actor=user.userid,
        entity="visit",
        entity_id=visit.id,
        action="create",
        now=now,
        changes={"customer_id": [None, customer.id], "photos": [None, visit.photo_count]},
        detail=f"anomaly {visit.distance_m:.0f}m" if visit.location_anomaly and visit.distance_m else None,
    )
    leads.on_visit(
        session,
        config=config,
        customer_id=customer.id,
        actor=user.userid,
        now=now,
        owner=customer.owner_userid,
    )
    session.flush()
    return VisitResult(
        visit=visit,
        customer=customer,
        photos_pending=len(images),
        location_label=visit.location_label,
        located=location is not None,
    )


def same_visit_just_now(
    session: Session, *, user: User, customer: Customer, summary: str, now: datetime
) -> Visit | None:
    """The same visit text for the same customer by the same rep within 10 minutes (asked about, not stored twice)."""
    wanted = " ".join(summary.split())
    known, rows = preloaded.take(session, PRELOADED_RECENT, user.userid)
    if known:
        recent: Sequence[Visit] = [
            v for v in rows if v.customer_id == customer.id and v.visited_at >= now - REPEAT_WINDOW
        ]
        return next((v for v in recent if " ".join(v.summary.split()) == wanted), None)
    recent = session.scalars(
        select(Visit).where(
            Visit.userid == user.userid,
            Visit.customer_id == customer.id,
            Visit.visited_at >= now - REPEAT_WINDOW,
        )
    ).all()
    return next((v for v in recent if " ".join(v.summary.split()) == wanted), None)


def explain_flag(session: Session, *, visit: Visit, user: User, note: str, now: datetime) -> Visit:
    """The rep's explanation of their visit's location flag; the supervisor sees it beside the flag."""
    note = " ".join(note.split())[:255]
    if not note:
        raise DomainError("请写一句说明，例如：在客户的新仓库。")
    if visit.userid != user.userid:
        raise DomainError("只有记录这次拜访的销售可以补充说明。")
    old, visit.flag_note = visit.flag_note, note
    audit.record(
        session,
        actor=user.userid,
        entity="visit",
        entity_id=visit.id,
        action="explain",
        now=now,
        changes={"flag_note": [old, note]},
    )
    return visit
