"""Lead assignment rules (config `leads:`): region, then industry, then round-robin with a daily cap.

1. Region: a region hint naming a configured region; else the first province or city named in the hint, the
   company name or the address, else the landline's area code,
   mapped to a region by `leads.regions`; else the source's default region; else `leads.fallback_region`.
2. Industry: the first rule for (region, industry) names the reps to try first.
3. Round-robin among those reps (or all active reps of the region): the fewest leads assigned today, then
   the one whose last lead is oldest; a rep at the daily cap is skipped.
4. Nobody left → the region's supervisor; no region → a director.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Lead, User
from services.config import BusinessConfig
from services.geo import place_of_phone, places_in
from services.parsing import SHANGHAI
from services.roles import Role


def detect_region(
    config: BusinessConfig,
    *,
    company: str,
    address: str | None,
    phone: str | None,
    source: str,
    hint: str | None = None,
) -> str | None:
    leads = config.leads
    if hint and hint in leads.regions:
        return hint
    places = places_in(hint or "") + places_in(company) + places_in(address or "")
    from_phone = place_of_phone(phone)
    if from_phone is not None:
        places.append(from_phone)
    for city, province in places:
        region = leads.region_of_place(city) or leads.region_of_place(province)
        if region is not None:
            return region
    return leads.sources.get(source) or leads.fallback_region


@dataclass(frozen=True)
class Choice:
    user: User | None
    how: str  # rule | round_robin | supervisor | director | none


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(SHANGHAI).date(), time(0), tzinfo=SHANGHAI)


def choose(
    session: Session,
    *,
    config: BusinessConfig,
    region: str | None,
    industry: str | None,
    now: datetime,
    exclude: Iterable[str] = (),
) -> Choice:
    excluded = set(exclude)
    if region is not None:
        reps = [
            u
            for u in session.scalars(
                select(User).where(User.region == region, User.role == Role.REP, User.active.is_(True))
            )
            if u.userid not in excluded
        ]
        if industry:
            for rule in config.leads.rules:
                if rule.region == region and rule.industry == industry:
                    named = [u for uid in rule.reps for u in reps if u.userid == uid]
                    picked = _round_robin(session, named, cap=config.leads.daily_cap, now=now)
                    if picked is not None:
                        return Choice(picked, "rule")
        picked = _round_robin(session, reps, cap=config.leads.daily_cap, now=now)
        if picked is not None:
            return Choice(picked, "round_robin")
        boss = region_supervisor(session, region=region)
        if boss is not None:
            return Choice(boss, "supervisor")
    director = session.scalar(
        select(User).where(User.role == Role.DIRECTOR, User.active.is_(True)).order_by(User.id).limit(1)
    )
    return Choice(director, "director" if director is not None else "none")


def _round_robin(session: Session, reps: list[User], *, cap: int, now: datetime) -> User | None:
    if not reps:
        return None
    ids = [u.userid for u in reps]
    today = dict(
        session.execute(
            select(Lead.assignee_userid, func.count())
            .where(Lead.assignee_userid.in_(ids), Lead.assigned_at >= _day_start(now))
            .group_by(Lead.assignee_userid)
        ).all()
    )
    last = dict(
        session.execute(
            select(Lead.assignee_userid, func.max(Lead.assigned_at))
            .where(Lead.assignee_userid.in_(ids))
            .group_by(Lead.assignee_userid)
        ).all()
    )
    floor = datetime.min.replace(tzinfo=SHANGHAI)
    open_reps = [u for u in reps if today.get(u.userid, 0) < cap]
    if not open_reps:
        return None
    return min(open_reps, key=lambda u: (today.get(u.userid, 0), last.get(u.userid) or floor, u.userid))


def region_supervisor(session: Session, *, region: str | None) -> User | None:
    if not region:
        return None
    return session.scalar(
        select(User)
        .where(User.region == region, User.role == Role.SUPERVISOR, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def supervisor_for(session: Session, *, user: User | None, region: str | None) -> User | None:
    """The person who decides for `user`: their manager if a supervisor, else the region's supervisor."""
    if user is not None and user.manager_userid:
        manager = session.scalar(
            select(User).where(User.userid == user.manager_userid, User.active.is_(True))
        )
        if manager is not None and manager.role in (Role.SUPERVISOR, Role.DIRECTOR):
            return manager
    return region_supervisor(session, region=(user.region if user is not None and user.region else region))
