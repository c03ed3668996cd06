"""The digest's 线索 and 公海 lines, gathered for every manager at once (grouped by region, like the rest of
services/digest.py): yesterday's new leads by source, accepted / invalid, open leads past their reminder time
(overdue), the median time from a lead's arrival to its first visit (last 30 days), and this week's pool
recycling / claims / extensions per region. The markdown is cards/digest_markdown.leads_section."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from models import Lead, LeadStatus
from services import indicators as ind
from services import pool

FIRST_CONTACT_WINDOW = timedelta(days=30)


@dataclass
class LeadLines:
    new_by_source: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    invalid: int = 0
    overdue: int = 0
    first_contact_hours: list[float] = field(default_factory=list)
    pool: dict[str, pool.WeekStats] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.new_by_source
            or self.accepted
            or self.invalid
            or self.overdue
            or self.first_contact_hours
            or self.pool
        )


@dataclass
class LeadGroups:
    """Per region (None: leads no rule could place): the raw groups, filtered per manager by `for_scope`."""

    counts: list[
        tuple[str | None, str, int, int, int, int]
    ]  # region, source, new, accepted, invalid, overdue
    first_contact: list[tuple[str | None, float]]
    week: dict[str, pool.WeekStats]


def gather(
    session: Session, *, regions: ind.Regions, start: datetime, end: datetime, now: datetime
) -> LeadGroups:
    """Three grouped queries plus the pool's two, whatever the number of managers."""
    new = and_(Lead.created_at >= start, Lead.created_at < end)
    accepted = and_(Lead.status == LeadStatus.ACCEPTED, Lead.accepted_at >= start, Lead.accepted_at < end)
    invalid = and_(Lead.status == LeadStatus.INVALID, Lead.closed_at >= start, Lead.closed_at < end)
    overdue = and_(Lead.status == LeadStatus.ASSIGNED, Lead.reminded_at.is_not(None))
    rows = session.execute(
        select(
            Lead.region,
            Lead.source,
            func.count(case((new, Lead.id))),
            func.count(case((accepted, Lead.id))),
            func.count(case((invalid, Lead.id))),
            func.count(case((overdue, Lead.id))),
        )
        .where(_region_clause(regions))
        .group_by(Lead.region, Lead.source)
    ).all()
    contacts = session.execute(
        select(Lead.region, Lead.created_at, Lead.first_contact_at).where(
            _region_clause(regions),
            Lead.first_contact_at.is_not(None),
            Lead.first_contact_at >= now - FIRST_CONTACT_WINDOW,
            Lead.first_contact_at <= now,
        )
    ).all()
    week = pool.week_stats(session, now=now, regions=None if regions is None else list(regions))
    return LeadGroups(
        counts=[(r, s, int(a), int(b), int(c), int(d)) for r, s, a, b, c, d in rows],
        first_contact=[(r, (f - c).total_seconds() / 3600) for r, c, f in contacts if f is not None],
        week=week,
    )


def _region_clause(regions: ind.Regions) -> ColumnElement[bool]:
    return true() if regions is None else Lead.region.in_(regions)


def for_scope(groups: LeadGroups, mine: ind.Regions) -> LeadLines:
    lines = LeadLines()
    by_source: dict[str, int] = defaultdict(int)
    for region, source, new, accepted, invalid, overdue in groups.counts:
        if not ind.covers(mine, region):
            continue
        if new:
            by_source[source] += new
        lines.accepted += accepted
        lines.invalid += invalid
        lines.overdue += overdue
    lines.new_by_source = dict(sorted(by_source.items(), key=lambda x: (-x[1], x[0])))
    lines.first_contact_hours = [h for region, h in groups.first_contact if ind.covers(mine, region)]
    lines.pool = {r: s for r, s in groups.week.items() if ind.covers(mine, r)}
    return lines
