"""Customer segments at their edges, and one wake-up follow-up per dormancy."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from models import Customer, Reminder, ReminderStatus
from services.config import default_config
from services.segments import ContractStats, classify
from tests import digest_factory as f
from tests.harness import SHANGHAI, Bot

NIGHT = datetime(2026, 11, 28, 2, 0, tzinfo=SHANGHAI)
RULES = default_config().segments


def stats(**kw: object) -> ContractStats:
    base: dict[str, object] = dict(
        count=1,
        last_signed=NIGHT,
        star_count=1,
        star_total=Decimal(0),
        recent_total=Decimal(0),
        previous_total=Decimal(0),
        dormant_window_count=1,
    )
    base.update(kw)
    return ContractStats(**base)  # type: ignore[arg-type]


def test_rules_in_order_at_their_edges() -> None:
    assert classify(None, RULES) is None
    # 明星: exactly 3 contracts and strictly more than 200,000.
    assert classify(stats(count=3, star_count=3, star_total=Decimal("200000.01")), RULES) == "明星"
    assert classify(stats(count=3, star_count=3, star_total=Decimal(200000)), RULES) == "稳定"
    assert classify(stats(count=2, star_count=2, star_total=Decimal(900000)), RULES) == "稳定"
    # 成长: ratio exactly 1.5 counts; just below does not; needs a positive recent amount.
    assert classify(stats(recent_total=Decimal(150000), previous_total=Decimal(100000)), RULES) == "成长"
    assert classify(stats(recent_total=Decimal("149999.99"), previous_total=Decimal(100000)), RULES) == "稳定"
    assert classify(stats(recent_total=Decimal(10), previous_total=Decimal(0)), RULES) == "成长"
    # 休眠 wins over everything.
    assert (
        classify(stats(count=5, star_count=5, star_total=Decimal(10**6), dormant_window_count=0), RULES)
        == "休眠"
    )
    # 明星 wins over 成长.
    star_and_growing = stats(count=3, star_count=3, star_total=Decimal(300000), recent_total=Decimal(300000))
    assert classify(star_and_growing, RULES) == "明星"


def segment_of(bot: Bot, name: str) -> tuple[str | None, object]:
    with bot.session() as s:
        c = s.scalars(select(Customer).where(Customer.name == name)).one()
        return c.segment, c.segment_since


def test_job_assigns_segments_from_contracts(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        star = f.customer(s, "明星厂", owner="rep_e1", region="华东")
        for days in (10, 100, 300):
            f.contract(s, star, amount=70000, signed=NIGHT - timedelta(days=days))  # 210,000 in 3
        edge = f.customer(s, "刚好二十万", owner="rep_e1", region="华东")
        for days, amount in ((10, 50000), (200, 50000), (300, 100000)):  # exactly 200,000; not growing
            f.contract(s, edge, amount=amount, signed=NIGHT - timedelta(days=days))
        grow = f.customer(s, "成长厂", owner="rep_e2", region="华东")
        f.contract(s, grow, amount=150000, signed=NIGHT - timedelta(days=30))
        f.contract(s, grow, amount=100000, signed=NIGHT - timedelta(days=200))
        edge180 = f.customer(s, "刚好180天", owner="rep_s1", region="华南")
        f.contract(s, edge180, amount=50000, signed=NIGHT - timedelta(days=180))
        sleepy = f.customer(s, "老客户", owner="rep_s1", region="华南")
        f.contract(s, sleepy, amount=50000, signed=NIGHT - timedelta(days=180, seconds=1))
        f.customer(s, "新客户", owner="rep_s1", region="华南")
    summary = bot.run_job("segments", NIGHT)
    assert "1 newly dormant" in summary
    assert segment_of(bot, "明星厂") == ("明星", NIGHT.date())
    assert segment_of(bot, "刚好二十万")[0] == "稳定"  # 3 contracts, total exactly 200,000: not 明星
    assert segment_of(bot, "成长厂")[0] == "成长"  # 150,000 = 1.5 × 100,000
    # Signed exactly 180 days ago is still "in the last 180 days": not 休眠 (and, against nothing before, 成长).
    assert segment_of(bot, "刚好180天")[0] == "成长"
    assert segment_of(bot, "老客户") == ("休眠", NIGHT.date())
    assert segment_of(bot, "新客户") == (None, None)


def test_dormant_customer_gets_one_wakeup_per_dormancy(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "老客户", owner="rep_s1", region="华南", segment="稳定")
        f.contract(s, c, amount=50000, signed=NIGHT - timedelta(days=200))
    bot.run_job("segments", NIGHT)
    bot.run_job("segments", NIGHT + timedelta(hours=1))  # rerun the same night
    bot.run_job("segments", NIGHT + timedelta(days=1))  # next night: still dormant, nothing new
    with bot.session() as s:
        reminders = list(s.scalars(select(Reminder).where(Reminder.source == "dormant")))
    assert len(reminders) == 1
    r = reminders[0]
    assert r.owner_userid == "rep_s1" and "老客户" in r.title and r.status == ReminderStatus.OPEN
    assert r.due_at == datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)

    # The customer buys again (no longer dormant), then falls asleep again: a new dormancy, a new task.
    with bot.session() as s, s.begin():
        cust = s.scalars(select(Customer).where(Customer.name == "老客户")).one()
        f.contract(s, cust, amount=10000, signed=NIGHT + timedelta(days=2))
    bot.run_job("segments", NIGHT + timedelta(days=3))
    assert segment_of(bot, "老客户")[0] != "休眠"
    later = NIGHT + timedelta(days=2 + 181, hours=12)
    bot.run_job("segments", later)
    with bot.session() as s:
        reminders = list(
            s.scalars(select(Reminder).where(Reminder.source == "dormant").order_by(Reminder.id))
        )
    assert len(reminders) == 2 and reminders[1].due_at == later  # after 09:00: due now


def test_digest_lists_the_newly_dormant(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "老客户", owner="rep_e1", region="华东")
        f.contract(s, c, amount=50000, signed=NIGHT - timedelta(days=200))
    bot.run_job("segments", NIGHT)
    bot.run_job("digest", datetime(2026, 11, 28, 8, 45, tzinfo=SHANGHAI))
    text = "\n".join(bot.texts("sup_east"))
    assert "新增休眠" in text and "老客户" in text
    assert "老客户" not in "\n".join(bot.texts("sup_south"))


def test_segments_missed_at_two_oclock_run_once_at_start_up(bot) -> None:
    """A server down at 02:00 recomputes when it starts; a second start the same day does not."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from schedulers.segments import missed, night_of

    shanghai = ZoneInfo("Asia/Shanghai")
    morning = datetime(2026, 11, 28, 9, 0, tzinfo=shanghai)
    assert night_of(datetime(2026, 11, 28, 1, 59, tzinfo=shanghai)) == "2026-11-27"
    assert night_of(morning) == "2026-11-28"
    assert missed(bot.state, morning)
    bot.run_job("segments", morning)
    assert not missed(bot.state, morning)
    assert missed(bot.state, datetime(2026, 11, 29, 2, 5, tzinfo=shanghai))
