"""Working-time arithmetic for approval timeouts (Asia/Shanghai, Monday to Friday, configurable holidays).

A working day counts in full (24 working hours): "waiting more than 24 working hours" means "waiting more than
one working day", so a step sent on Friday 10:00 reaches 24 working hours on Monday 10:00.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.config import ApprovalConfig
from services.parsing import SHANGHAI


def is_working_day(day: date, *, config: ApprovalConfig) -> bool:
    if day in config.extra_workdays:
        return True
    return day.weekday() < 5 and day not in config.holidays


def working_hours_between(start: datetime, end: datetime, *, config: ApprovalConfig) -> float:
    """Hours of [start, end) that fall on working days in Asia/Shanghai; 0 when end <= start."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("aware datetimes required")
    if end <= start:
        return 0.0
    local_start, local_end = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    total = timedelta()
    day = local_start.date()
    while day <= local_end.date():
        if is_working_day(day, config=config):
            day_start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
            day_end = day_start + timedelta(days=1)
            lo, hi = max(day_start, local_start), min(day_end, local_end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def add_working_hours(start: datetime, hours: float, *, config: ApprovalConfig) -> datetime:
    """The first instant at which `hours` working hours have passed since `start` (aware UTC-compatible)."""
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(SHANGHAI)
    for _ in range(3660):  # ten years of days, a safety bound
        day_end = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        if is_working_day(cursor.date(), config=config):
            available = day_end - cursor
            if available >= remaining:
                return cursor + remaining
            remaining -= available
        cursor = day_end
    raise ValueError("no working days configured")


def working_days_between(start: date, end: date, *, config: ApprovalConfig) -> int:
    """Working days d with start < d <= end (negative when end is before start): how far `end` is ahead."""
    if end == start:
        return 0
    sign, lo, hi = (1, start, end) if end > start else (-1, end, start)
    count = 0
    day = lo + timedelta(days=1)
    while day <= hi:
        if is_working_day(day, config=config):
            count += 1
        day += timedelta(days=1)
    return sign * count
