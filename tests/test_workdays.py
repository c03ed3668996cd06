"""Working-hour arithmetic for approval timeouts (Asia/Shanghai, Mon–Fri, holidays, 调休)."""

from __future__ import annotations

from datetime import date, datetime

from services.config import ApprovalConfig
from services.parsing import SHANGHAI
from services.workdays import add_working_hours, working_hours_between


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


CFG = ApprovalConfig()


def test_same_day() -> None:
    assert working_hours_between(sh(2026, 11, 27, 10), sh(2026, 11, 27, 16), config=CFG) == 6


def test_weekend_does_not_count() -> None:
    # Friday 10:00 → Monday 10:00: 14 h on Friday + 10 h on Monday.
    assert working_hours_between(sh(2026, 11, 27, 10), sh(2026, 11, 30, 10), config=CFG) == 24
    assert working_hours_between(sh(2026, 11, 28, 9), sh(2026, 11, 29, 20), config=CFG) == 0


def test_holiday_and_extra_workday() -> None:
    cfg = ApprovalConfig(holidays=[date(2026, 11, 30)], extra_workdays=[date(2026, 11, 28)])
    # Fri 10:00 → Tue 10:00: Fri 14 + Sat (调休) 24 + Sun 0 + Mon (holiday) 0 + Tue 10
    assert working_hours_between(sh(2026, 11, 27, 10), sh(2026, 12, 1, 10), config=cfg) == 48


def test_add_working_hours_skips_weekend() -> None:
    assert add_working_hours(sh(2026, 11, 27, 10), 24, config=CFG) == sh(2026, 11, 30, 10)
    assert add_working_hours(sh(2026, 11, 27, 10), 48, config=CFG) == sh(2026, 12, 1, 10)


def test_reversed_interval_is_zero() -> None:
    assert working_hours_between(sh(2026, 11, 27, 10), sh(2026, 11, 26, 10), config=CFG) == 0
