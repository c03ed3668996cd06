"""The four management indicators, each on constructed data with known arithmetic."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models import ReminderStatus, StepStatus, User
from services import indicators as ind
from services.config import default_config
from services.scope import Scope
from tests import digest_factory as f
from tests.harness import SHANGHAI, Bot

NOW = datetime(2026, 11, 28, 8, 45, tzinfo=SHANGHAI)


def scope(bot: Bot, s, userid: str) -> ind.Coverage:  # type: ignore[no-untyped-def]
    manager = s.scalars(select(User).where(User.userid == userid)).one()
    users = list(s.scalars(select(User.userid).where(Scope.of(manager).users())))
    return ind.scope_for(manager, users)


def test_conversion_cycle_is_mean_days_to_first_contract_in_90_days(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密", owner="rep_e1", region="华东")
        south = f.customer(s, "广州重工", owner="rep_s1", region="华南")
        o1 = f.opportunity(s, c, name="A", created=NOW - timedelta(days=40))
        f.contract(s, c, amount=1, opp=o1, signed=NOW - timedelta(days=30))  # 10 days
        f.contract(s, c, amount=1, opp=o1, signed=NOW - timedelta(days=1))  # not the first: ignored
        o2 = f.opportunity(s, c, name="B", created=NOW - timedelta(days=80))
        f.contract(s, c, amount=1, opp=o2, signed=NOW - timedelta(days=50))  # 30 days
        o3 = f.opportunity(s, c, name="C", created=NOW - timedelta(days=300))
        f.contract(s, c, amount=1, opp=o3, signed=NOW - timedelta(days=91))  # first contract too old
        o4 = f.opportunity(s, south, name="D", created=NOW - timedelta(days=60))
        f.contract(s, south, amount=1, opp=o4, signed=NOW - timedelta(days=10))  # 50 days, other region
    with bot.session() as s:
        east = ind.conversion_cycle(s, scope=scope(bot, s, "sup_east"), now=NOW)
        everyone = ind.conversion_cycle(s, scope=scope(bot, s, "boss"), now=NOW)
        nobody = ind.conversion_cycle(s, scope=scope(bot, s, "sup_east"), now=NOW - timedelta(days=200))
    assert east.value == pytest.approx(20.0) and east.text == "20.0 天"
    assert everyone.value == pytest.approx(30.0)
    assert nobody.value is None


def test_completeness_share_against_the_90_percent_target(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        for i in range(9):
            f.customer(s, f"完整{i}", owner="rep_e1", region="华东")
        f.customer(s, "缺地址", owner="rep_e1", region="华东", complete=False)
        f.customer(s, "华南缺", owner="rep_s1", region="华南", complete=False)
    with bot.session() as s:
        east = ind.completeness(s, scope=scope(bot, s, "sup_east"))
        everyone = ind.completeness(s, scope=scope(bot, s, "boss"))
        south = ind.completeness(s, scope=scope(bot, s, "sup_south"))
    assert (
        east.value == pytest.approx(0.9) and east.ok is True and east.text == "90%" and east.detail == "9/10"
    )
    assert everyone.value == pytest.approx(9 / 11) and everyone.ok is False
    assert south.value == 0 and south.ok is False


def test_on_time_rate_counts_reminders_and_approval_steps(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密", owner="rep_e1", region="华东")
        due = NOW - timedelta(days=3)
        f.reminder(
            s, owner="rep_e1", due=due, status=ReminderStatus.DONE, completed=due - timedelta(hours=1)
        )  # on time
        f.reminder(s, owner="rep_e1", due=due, status=ReminderStatus.DONE, completed=due)  # on time (exactly)
        f.reminder(
            s, owner="rep_e2", due=due, status=ReminderStatus.DONE, completed=due + timedelta(minutes=1)
        )  # late
        f.reminder(s, owner="rep_e2", due=due)  # still open: late
        f.reminder(s, owner="rep_e2", due=due, status=ReminderStatus.CANCELLED)  # not counted
        f.reminder(s, owner="rep_e1", due=NOW - timedelta(days=31))  # outside the window
        f.reminder(s, owner="rep_e1", due=NOW + timedelta(hours=2))  # not due yet
        f.reminder(s, owner="rep_s1", due=due)  # other region
        o = f.opportunity(s, c, name="A")
        # Monday 2026-11-23 09:00 activation; 24 working hours later is Tuesday 09:00.
        monday = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
        q = f.quote(s, o, created=monday)
        f.step(
            s, q, seq=1, status="approved", activated=monday, acted=monday + timedelta(hours=24)
        )  # on time
        q2 = f.quote(s, o, created=monday)
        f.step(
            s, q2, seq=1, status=StepStatus.REJECTED, activated=monday, acted=monday + timedelta(hours=25)
        )  # late
        # Friday 20:00 → Monday 10:00 is only 14 working hours (the weekend does not count): on time.
        friday = datetime(2026, 11, 20, 20, 0, tzinfo=SHANGHAI)
        q3 = f.quote(s, o, created=friday)
        f.step(s, q3, seq=1, status=StepStatus.APPROVED, activated=friday, acted=friday + timedelta(hours=62))
        q4 = f.quote(s, o, created=monday)
        f.step(s, q4, seq=1, status=StepStatus.PENDING, activated=monday)  # waiting days: late
        q5 = f.quote(s, o, created=NOW)
        f.step(
            s, q5, seq=1, status="pending", activated=NOW - timedelta(hours=1)
        )  # within its time: not counted
        f.step(s, q5, seq=2, status=StepStatus.WAITING)  # not activated: not counted
    with bot.session() as s:
        rate = ind.on_time_rate(
            s, scope=scope(bot, s, "sup_east"), config=bot.state.config, now=NOW, tz=SHANGHAI
        )
    # reminders 2/4, steps 2/4 → 4/8
    assert rate.detail == "4/8" and rate.value == pytest.approx(0.5) and rate.ok is False


def test_working_hours_skip_weekends_and_holidays() -> None:
    config = default_config()
    friday = datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    assert ind.working_hours_between(
        friday, friday + timedelta(days=3), config=config, tz=SHANGHAI
    ) == pytest.approx(24)
    assert ind.working_hours_between(friday, friday, config=config, tz=SHANGHAI) == 0


def test_sales_growth_month_to_date_against_same_days_last_month(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密", owner="rep_e1", region="华东")
        f.contract(s, c, amount=150000, signed=f.at(2026, 11, 5))
        f.contract(s, c, amount=100000, signed=f.at(2026, 10, 20))
        f.contract(s, c, amount=999999, signed=f.at(2026, 10, 29))  # after the same day last month: excluded
        f.contract(s, c, amount=999999, signed=f.at(2026, 9, 20))  # two months ago
        south = f.customer(s, "广州重工", owner="rep_s1", region="华南")
        f.contract(s, south, amount=50000, signed=f.at(2026, 11, 6))
    with bot.session() as s:
        east = ind.sales_growth(
            s, scope=scope(bot, s, "sup_east"), config=bot.state.config, now=NOW, tz=SHANGHAI
        )
        everyone = ind.sales_growth(
            s, scope=scope(bot, s, "boss"), config=bot.state.config, now=NOW, tz=SHANGHAI
        )
        south_only = ind.sales_growth(
            s, scope=scope(bot, s, "sup_south"), config=bot.state.config, now=NOW, tz=SHANGHAI
        )
    assert east.value == pytest.approx(0.5) and east.text == "+50%"
    assert everyone.value == pytest.approx(1.0)
    assert south_only.value is None


def test_same_period_last_month_is_capped_at_month_end() -> None:
    tz = SHANGHAI
    now = datetime(2026, 3, 31, 12, 0, tzinfo=tz)
    this_start, last_start, last_end = ind.same_period_last_month(now, tz)
    assert last_start == datetime(2026, 2, 1, tzinfo=tz) and last_end == this_start
