"""The digest's helper parts that inform without singling anyone out (issue 14):

- `RegionRow`: the director's regions side by side — visits, new opportunities, quotes, signed, collected
  and the four indicators — built from the same per-region groups `services/digest.build_digests` loads;
- `quiet_reps`: a supervisor's reps with no visit in the period, each with the working days since their last
  visit (neutral text, no colour);
- `region_rows` builds those rows, `target_lines` the 完成率 lines (per rep for a supervisor, per region for
  the director).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from cards.targets import Progress, digest_target_lines
from models import Role, User
from models.targets import Metric
from services import indicators as ind
from services.config import BusinessConfig
from services.escape import markdown as md


@dataclass
class RegionRow:
    region: str
    visits: int = 0
    new_opportunities: int = 0
    quotes: int = 0  # requested in the period (pending now or decided in it)
    signed: Decimal = Decimal(0)  # this month
    collected: Decimal = Decimal(0)  # this month
    indicators: list[ind.Indicator] = field(default_factory=list)


def working_days_between(start: date, end: date, *, config: BusinessConfig) -> int:
    """Working days after `start` up to and including `end` (the approvals' calendar)."""
    days, day = 0, start + timedelta(days=1)
    while day <= end:
        days += 1 if config.approval.is_working_day(day) else 0
        day += timedelta(days=1)
    return days


def quiet_reps(
    reps: list[tuple[str, str, int]], last_visit: dict[str, date], *, period_end: date, config: BusinessConfig
) -> list[tuple[str, int | None]]:
    """(name, working days since the last visit — None when there is none) for reps with no visit in the period,
    the longest gap first."""
    out = [
        (
            name,
            working_days_between(last_visit[userid], period_end, config=config)
            if userid in last_visit
            else None,
        )
        for userid, name, visits in reps
        if visits == 0
    ]
    return sorted(out, key=lambda item: (-(item[1] if item[1] is not None else 10**6), item[0]))


def as_decimal(value: object) -> Decimal:
    """A SUM from the database as a Decimal (SQLite may give an int, a float or None)."""
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def region_rows(
    *, config: BusinessConfig, users: Sequence[Any], visits: dict[str, int], **groups: Any
) -> list[RegionRow]:
    """One row per region from the per-region groups already loaded (no further query)."""
    names = sorted({u.region for u in users if u.region} | {r for r, *_ in groups["funnel"] if r})
    rows: list[RegionRow] = []
    for region in names:
        only = (region,)
        row = RegionRow(region=region)
        row.visits = sum(int(visits.get(u.userid, 0)) for u in users if u.region == region)
        row.new_opportunities = sum(
            int(new_n) for r, _s, _n, _a, new_n, _na in groups["funnel"] if r == region
        )
        row.quotes = sum(int(n) for r, _st, n, _o in groups["quotes"] if r == region)
        row.signed = sum((as_decimal(a) for r, _u, a in groups["signed"] if r == region), Decimal(0))
        row.collected = sum(
            (values[-2] for values in ind.in_regions(groups["collections"], only)), Decimal(0)
        )
        total = complete = 0
        for (r, _segment), (n, done) in groups["counts"].items():
            if r == region:
                total, complete = total + n, complete + done
        members = {u.userid for u in users if u.region == region}
        row.indicators = [
            ind.conversion_cycle_from(*ind.add_pairs(ind.in_regions(groups["conversion"], only))),
            ind.completeness_from(total, complete),
            ind.on_time_rate_from(
                *ind.add_pairs(
                    [
                        *(v for u, v in groups["reminders_timely"].items() if u in members),
                        *ind.in_regions(groups["steps_timely"], only),
                    ]
                )
            ),
            ind.sales_growth_from(*ind.add_pairs(ind.in_regions(groups["growth"], only))),
        ]
        rows.append(row)
    return rows


def target_lines(
    manager: User,
    users: Sequence[Any],
    members: frozenset[str] | None,
    by_signer: dict[str, Decimal],
    month_targets: dict[tuple[str, str], Decimal],
    elapsed: float,
) -> list[str]:
    """Per rep for a supervisor, per region for the director: signed this month against the month's target."""

    def row(name: str, level: str, key: str, done: Decimal) -> tuple[str, Progress]:
        return name, Progress(Metric.SIGNED, month_targets.get((level, key)), done, None)

    if manager.role == Role.SUPERVISOR.value:
        rows = [
            row(md(u.name), "rep", u.userid, by_signer.get(u.userid, Decimal(0)))
            for u in users
            if u.role == Role.REP.value and members is not None and u.userid in members
        ]
    else:
        region_of = {u.userid: u.region for u in users}
        done: dict[str, Decimal] = {}
        for signer, amount in by_signer.items():
            if region_of.get(signer):
                done[region_of[signer]] = done.get(region_of[signer], Decimal(0)) + amount
        regions = sorted({u.region for u in users if u.region and u.role == Role.REP.value})
        rows = [row(md(r), "region", r, done.get(r, Decimal(0))) for r in regions]
    return digest_target_lines(sorted(rows, key=lambda r: r[0]), elapsed=elapsed)
