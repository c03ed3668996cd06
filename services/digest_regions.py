"""The digest's helper parts that inform without singling anyone out (issue 14):

- `RegionRow`: the director's regions side by side — visits, new opportunities, quotes, signed, collected
  and the four indicators — built from the same per-region groups `services/digest.build_digests` loads;
- `quiet_reps`: a supervisor's reps with no visit in the period, each with the working days since their last
  visit (neutral text, no colour);
- `as_of`: the `截至 12月3日` label of month-to-date figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from services import indicators as ind
from services.config import BusinessConfig


@dataclass
class RegionRow:
    region: str
    visits: int = 0
    new_opportunities: int = 0
    quotes: int = 0  # requested in the period (pending now or decided in it)
    signed: Decimal = Decimal(0)  # this month
    collected: Decimal = Decimal(0)  # this month
    indicators: list[ind.Indicator] = field(default_factory=list)


def as_of(day: date) -> str:
    """`截至 12月3日` (no leading zeros, the way it is said)."""
    return f"截至 {day.month}月{day.day}日"


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


def quiet_text(quiet: list[tuple[str, int | None]], *, limit: int, escape: object) -> str:
    """`李娜（上次拜访在 3 个工作日前）、赵强（还没有拜访记录）` — neutral words, no colour."""
    from collections.abc import Callable

    md: Callable[[str], str] = escape  # type: ignore[assignment]
    shown = [
        f"{md(name)}（{f'上次拜访在 {days} 个工作日前' if days is not None else '还没有拜访记录'}）"
        for name, days in quiet[:limit]
    ]
    more = f" 等{len(quiet)}人" if len(quiet) > limit else ""
    return "、".join(shown) + more
