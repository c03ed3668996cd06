"""The reminders tick driven by time (`run_job("reminders", when)`, no sleeping): exactly once, catch-up,
escalation once, and the issue's "Done when" walk-through."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from models import Push, Reminder
from services.parsing import SHANGHAI
from tests import reminders_factory as f
from tests.harness import Bot


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def reminder_cards(bot: Bot, userid: str) -> list[dict[str, Any]]:
    return [c for c in bot.cards(userid) if str(c.get("task_id", "")).startswith("rem")]


def key_of(card: dict[str, Any], text: str) -> str:
    return next(b["key"] for b in card["button_list"] if b["text"] == text)


def escalations(bot: Bot, userid: str) -> list[str]:
    """The team escalations `userid` got: one card per run listing the overdue follow-ups."""
    return [
        f"{c['main_title']['title']} {c['sub_title_text']}"
        for c in bot.cards(userid)
        if c["main_title"]["title"] == "团队跟进逾期"
    ]


def test_done_when_walkthrough(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        f.customer(s, "华东精密机械")
    bot.send_text("rep_e1", "跟进 华东精密机械 明天上午10点 送样品")
    assert "11月28日(周六) 10:00" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "跟进 华东精密机械 火星时间 送样品")
    assert "看不懂时间" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert len(s.scalars(select(Reminder)).all()) == 1

    bot.run_job("reminders", sh(2026, 11, 28, 9, 58))
    assert reminder_cards(bot, "rep_e1") == []
    bot.run_job("reminders", sh(2026, 11, 28, 10, 0))
    [card] = reminder_cards(bot, "rep_e1")
    assert "补发" not in card["main_title"]["title"]
    bot.run_job("reminders", sh(2026, 11, 28, 10, 1))
    assert len(reminder_cards(bot, "rep_e1")) == 1

    bot.send_text("rep_e1", "待办")
    assert "送样品" in bot.last_text("rep_e1")
    bot.tap("rep_e1", card["task_id"], key_of(card, "已完成"))
    bot.send_text("rep_e1", "待办")
    assert "没有待办" in bot.last_text("rep_e1")
    bot.run_job("reminders", sh(2026, 11, 29, 10, 1))
    assert escalations(bot, "sup_east") == []


def test_uncompleted_reminder_escalates_to_supervisor_once(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        f.customer(s, "华东精密机械")
    bot.send_text("rep_e1", "跟进 华东精密机械 明天上午10点 送样品")
    bot.run_job("reminders", sh(2026, 11, 28, 10, 0))
    bot.run_job("reminders", sh(2026, 11, 29, 9, 59))
    assert escalations(bot, "sup_east") == []
    bot.run_job("reminders", sh(2026, 11, 29, 10, 0))
    [text] = escalations(bot, "sup_east")
    assert "张伟" in text and "送样品" in text and "华东精密机械" in text
    for minutes in range(1, 4):
        bot.run_job("reminders", sh(2026, 11, 29, 10, 0) + timedelta(minutes=minutes))
    bot.run_job("reminders", sh(2026, 12, 5, 10, 0))
    assert len(escalations(bot, "sup_east")) == 1
    assert escalations(bot, "boss") == [] and escalations(bot, "rep_e1") == []
    # Snoozing after the escalation does not escalate it again.
    [card] = reminder_cards(bot, "rep_e1")
    bot.tap("rep_e1", card["task_id"], key_of(card, "推迟1天"))
    bot.run_job("reminders", sh(2026, 12, 8, 10, 0))
    assert len(escalations(bot, "sup_east")) == 1


def test_escalation_falls_back_to_region_supervisor(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        from models import User

        s.scalar(select(User).where(User.userid == "rep_s1")).manager_userid = None  # type: ignore[union-attr]
        c = f.customer(s, "华南电气", owner="rep_s1", region="华南")
        f.reminder(s, c, owner="rep_s1", due_at=sh(2026, 11, 26, 9, 0))
    bot.run_job("reminders", sh(2026, 11, 27, 10, 0))
    assert len(escalations(bot, "sup_south")) == 1 and escalations(bot, "sup_east") == []


def test_repeated_ticks_send_each_reminder_once(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s)
        for i in range(5):
            f.reminder(s, c, due_at=sh(2026, 11, 27, 10, i), title=f"事项{i}")
    for minute in range(0, 8):
        for _ in range(2):
            bot.run_job("reminders", sh(2026, 11, 27, 10, minute))
    cards = reminder_cards(bot, "rep_e1")
    # One card a minute; the 5th would be the person's 5th push, a slot kept for approvals: held for 待办.
    assert sorted(c["horizontal_content_list"][0]["value"] for c in cards) == [f"事项{i}" for i in range(4)]
    assert all("补发" not in c["main_title"]["title"] for c in cards)
    with bot.session() as s:
        rows = s.scalars(select(Push).where(Push.dedup_key.like("reminder:%"))).all()
        assert len(rows) == 5 and len({r.dedup_key for r in rows}) == 5
        assert [r.status for r in rows].count("held") == 1
    bot.send_text("rep_e1", "待办")
    assert "事项4" in bot.last_text("rep_e1")


def test_catch_up_after_downtime_is_sent_once_marked_late(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s)
        late_id = f.reminder(s, c, due_at=sh(2026, 11, 27, 9, 0), title="过期的").id
        f.reminder(s, c, due_at=sh(2026, 11, 27, 13, 58), title="刚到期的", owner="rep_e2")
        f.reminder(s, c, due_at=sh(2026, 11, 27, 15, 0), title="还没到期的")
    bot.run_job("reminders", sh(2026, 11, 27, 8, 55))
    # Server down from 08:55 to 14:00; the first tick after restart:
    bot.run_job("reminders", sh(2026, 11, 27, 14, 0))
    bot.run_job("reminders", sh(2026, 11, 27, 14, 1))
    [late] = reminder_cards(bot, "rep_e1")
    [fresh] = reminder_cards(bot, "rep_e2")
    assert (
        late["horizontal_content_list"][0]["value"] == "过期的"
        and fresh["horizontal_content_list"][0]["value"] == "刚到期的"
    )
    assert late["main_title"]["title"] == "跟进提醒（补发）" and "服务暂停" in late["sub_title_text"]
    assert fresh["main_title"]["title"] == "跟进提醒"
    with bot.session() as s:
        assert s.get(Reminder, late_id).notified_late is True  # type: ignore[union-attr]
    # The server is up; a card that still goes out late (the tick ran at its due time) only says 稍晚送达.
    for minute in range(2, 60, 10):
        bot.run_job("reminders", sh(2026, 11, 27, 14, minute))
    with bot.session() as s, s.begin():  # e.g. written with a due time already 40 minutes past
        f.reminder(s, c, due_at=sh(2026, 11, 27, 14, 30), title="稍晚的", owner="rep_s1")
    bot.run_job("reminders", sh(2026, 11, 27, 15, 10))
    [later] = reminder_cards(bot, "rep_s1")
    assert later["main_title"]["title"] == "跟进提醒" and later["sub_title_text"] == "稍晚送达。"


def test_cli_style_now_driving_reports_counts(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s)
        f.reminder(s, c, due_at=sh(2026, 11, 25, 9, 0))
    summary = bot.run_job("reminders", sh(2026, 11, 27, 10, 0))
    assert summary.startswith("reminders: 1 cards (1 late), 1 escalations")
    assert bot.run_job("reminders", sh(2026, 11, 27, 10, 1)).startswith(
        "reminders: 0 cards (0 late), 0 escalations"
    )
