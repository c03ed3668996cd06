"""Reminders like a careful assistant: relative times on working days and hours, a past date asked about
(never silently moved), 改期/删除 from text and card, and neither counted as done."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models import Reminder
from services.config import BusinessConfig
from services.followup_time import when_of
from services.parsing import SHANGHAI
from services.reminder_escalation import on_time_rate
from tests import reminders_factory as f
from tests.harness import Bot


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


THURSDAY = sh(2026, 12, 3, 10, 0)


def reminders(bot: Bot) -> list[Reminder]:
    with bot.session() as s:
        rows = list(s.scalars(select(Reminder).order_by(Reminder.id)))
        for r in rows:
            s.expunge(r)
        return rows


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3天后", sh(2026, 12, 8, 9, 0)),  # Thursday + 3 working days = next Tuesday 09:00
        ("三天后", sh(2026, 12, 8, 9, 0)),
        ("3天后下午2点", sh(2026, 12, 8, 14, 0)),
        ("后天", sh(2026, 12, 7, 9, 0)),  # Saturday → Monday
        ("明天", sh(2026, 12, 4, 9, 0)),  # Friday is a working day
        ("明天下午3点", sh(2026, 12, 4, 15, 0)),
        ("下周六", sh(2026, 12, 12, 9, 0)),  # a named day is what was asked for
        ("12月5日", sh(2026, 12, 5, 9, 0)),  # so is a date
    ],
)
def test_relative_times_land_on_working_days(typed: str, expected: datetime) -> None:
    assert when_of(typed, now=THURSDAY, config=BusinessConfig(), tz=SHANGHAI).when == expected


def test_hours_later_after_work_lands_on_the_next_working_morning_and_it_is_configurable() -> None:
    friday_evening = sh(2026, 12, 4, 17, 0)
    assert when_of("2小时后", now=friday_evening, config=BusinessConfig(), tz=SHANGHAI).when == sh(
        2026, 12, 7, 9, 0
    )
    cfg = BusinessConfig.model_validate({"reminders": {"working_time_only": False}})
    assert when_of("3天后", now=THURSDAY, config=cfg, tz=SHANGHAI).when == sh(2026, 12, 6, 9, 0)
    holiday = BusinessConfig.model_validate(
        {"approval": {"holidays": ["2026-12-07"]}}
    )  # the approvals' calendar
    assert when_of("后天", now=THURSDAY, config=holiday, tz=SHANGHAI).when == sh(2026, 12, 8, 9, 0)


def test_followup_3_days_later_on_a_thursday_and_the_visit_card_button(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        visit = f.visit_with_card(s, c)
        visit_id = visit.id
    bot.clock.set(THURSDAY)
    bot.send_text("rep_e1", "跟进 华东精密机械 3天后 送样品")
    assert "12月8日(周二) 09:00（按工作日顺延）" in bot.last_text("rep_e1")
    from tests.test_reminders import _send_visit_card

    card = _send_visit_card(bot, f"visit-{visit_id}")
    bot.tap("rep_e1", card["task_id"], next(b["key"] for b in card["button_list"] if b["text"] == "3天后"))
    assert [r.due_at for r in reminders(bot)] == [sh(2026, 12, 8, 9, 0), sh(2026, 12, 8, 9, 0)]


def test_a_past_date_is_asked_about_never_moved_silently(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        f.customer(s, "华东精密机械")
    bot.clock.set(THURSDAY)
    bot.send_text("rep_e1", "跟进 华东精密机械 11月30日 送合同")
    [card] = bot.cards("rep_e1")
    assert card["main_title"]["title"] == "是指明年 11月30日 吗？"
    assert [b["text"] for b in card["button_list"]] == ["是", "改日期"]
    assert reminders(bot) == []  # nothing written before the answer
    bot.tap("rep_e1", card["task_id"], card["button_list"][0]["key"])
    [r] = reminders(bot)
    assert r.due_at == sh(2027, 11, 30, 9, 0) and "2027年11月30日" in bot.last_text("rep_e1")

    bot.send_text("rep_e1", "跟进 华东精密机械 11月30日 送发票")
    card = bot.cards("rep_e1")[-1]
    bot.tap("rep_e1", card["task_id"], card["button_list"][1]["key"])  # 改日期
    assert "新的跟进时间" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "昨天")
    assert "已经过去" in bot.last_text("rep_e1") and len(reminders(bot)) == 1
    bot.send_text("rep_e1", "下周一上午10点")
    assert reminders(bot)[-1].due_at == sh(2026, 12, 7, 10, 0) and reminders(bot)[-1].title == "送发票"


def test_move_and_delete_by_text_and_card_and_neither_counts_as_done(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        moved = f.reminder(s, c, due_at=sh(2026, 11, 27, 15, 0), title="送样品").id
        deleted = f.reminder(s, c, due_at=sh(2026, 11, 27, 16, 0), title="打电话").id
        carded = f.reminder(s, c, due_at=sh(2026, 11, 27, 10, 0), title="寄资料").id
        f.reminder(s, c, due_at=sh(2026, 11, 27, 11, 0), owner="rep_e2", title="别人的")
    bot.send_text("rep_e1", f"改期 {moved} 下周一上午10点")
    assert "11月30日(周一) 10:00" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", f"改期 {moved} 昨天")
    assert "已经过去" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", f"删除 #{deleted}")
    assert "已删除待办" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "删除 4")
    assert "没有找到待办 #4" in bot.last_text("rep_e1")  # another rep's: looks missing
    bot.send_text("rep_e1", "改期 明天")
    assert "用法：改期" in bot.last_text("rep_e1")

    bot.run_job("reminders", sh(2026, 11, 27, 10, 0))
    card = next(c for c in bot.cards("rep_e1") if c["task_id"].startswith(f"rem{carded}"))
    assert "删除" in [b["text"] for b in card["button_list"]]
    bot.tap("rep_e1", card["task_id"], next(b["key"] for b in card["button_list"] if b["text"] == "删除"))
    assert bot.cards("rep_e1")[-1].get("replace_text") == "已删除"

    by_id = {r.id: r for r in reminders(bot)}
    assert by_id[moved].status == "open" and by_id[moved].due_at == sh(2026, 11, 30, 10, 0)
    assert by_id[deleted].status == "cancelled" and by_id[carded].status == "cancelled"
    with bot.session() as s:
        week = (sh(2026, 11, 23, 0, 0), sh(2026, 12, 7, 0, 0))
        assert on_time_rate(s, userids=["rep_e1"], start=week[0], end=week[1]) == (
            0,
            1,
        )  # only the moved one
    bot.run_job("reminders", sh(2026, 11, 27, 16, 30))  # the deleted one never rings
    assert not any("打电话" in str(c) for c in bot.cards("rep_e1"))
    bot.run_job("reminders", sh(2026, 11, 30, 10, 0) + timedelta(minutes=1))
    assert any(
        c["horizontal_content_list"][0]["value"] == "送样品"
        for c in bot.cards("rep_e1")
        if "horizontal_content_list" in c
    )
