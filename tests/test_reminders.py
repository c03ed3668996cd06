"""跟进 / 待办 / 完成 and the card taps, end to end through encrypted callbacks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from cards.keys import CardKey
from chat.outbox import enqueue
from chat.replies import Card
from models import AuditEntry, Reminder, ReminderStatus
from services.parsing import SHANGHAI
from services.reminder_escalation import on_time_rate
from tests import reminders_factory as f
from tests.harness import Bot


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def setup_customer(bot: Bot, name: str = "华东精密机械", owner: str = "rep_e1", region: str = "华东") -> int:
    with bot.session() as s, s.begin():
        return f.customer(s, name, owner=owner, region=region).id


def reminders(bot: Bot) -> list[Reminder]:
    with bot.session() as s:
        rows = list(s.scalars(select(Reminder).order_by(Reminder.id)))
        s.expunge_all()
        return rows


def reminder_cards(bot: Bot, userid: str) -> list[dict[str, Any]]:
    return [c for c in bot.cards(userid) if str(c.get("task_id", "")).startswith("rem")]


def key_of(card: dict[str, Any], text: str) -> str:
    return next(b["key"] for b in card["button_list"] if b["text"] == text)


# --- 跟进 ------------------------------------------------------------------------------------------


def test_followup_confirms_resolved_time_and_number(bot: Bot) -> None:
    setup_customer(bot)
    bot.send_text("rep_e1", "跟进 华东精密机械 明天下午3点 送样品")
    reply = bot.last_text("rep_e1")
    [r] = reminders(bot)
    assert "11月28日(周六) 15:00" in reply and f"#{r.id}" in reply and "送样品" in reply
    assert r.due_at == sh(2026, 11, 28, 15, 0) and r.title == "送样品" and r.owner_userid == "rep_e1"


def test_followup_split_time_and_date_only_defaults_to_nine(bot: Bot) -> None:
    setup_customer(bot)
    bot.send_text("rep_e1", "跟进 华东精密 明天 下午3点 送样品")
    bot.send_text("rep_e1", "跟进 华东精密 下周一 回访报价")
    rows = reminders(bot)
    assert [r.due_at for r in rows] == [sh(2026, 11, 28, 15, 0), sh(2026, 11, 30, 9, 0)]
    assert "11月30日(周一) 09:00" in bot.last_text("rep_e1")


def test_followup_on_an_ambiguous_customer_asks_for_a_number_and_the_number_picks(bot: Bot) -> None:
    setup_customer(bot, "华东精密机械")
    other = setup_customer(bot, "华东精密仪器")
    bot.send_text("rep_e1", "跟进 华东精密 明天 打电话")
    assert "1. " in bot.last_text("rep_e1") and reminders(bot) == []
    bot.send_text("rep_e1", "2")
    [r] = reminders(bot)
    assert (
        r.customer_id == other and r.title == "打电话" and r.due_at == sh(2026, 11, 30, 9, 0)
    )  # 明天 = Saturday → Monday
    assert "华东精密仪器" in bot.last_text("rep_e1")


def test_followup_bad_input_creates_nothing(bot: Bot) -> None:
    setup_customer(bot)
    setup_customer(bot, "华南电气", owner="rep_s1", region="华南")
    cases = {
        "跟进 华东精密机械 火星时间 送样品": "看不懂时间",
        "跟进 华东精密机械 今天上午9点 送样品": "已经过去",
        "跟进 华东精密机械 明天下午3点": "事项",
        "跟进": "用法",
        "跟进 华南电气 明天 送样品": "没有找到客户",  # out of scope looks like missing
    }
    for text, expected in cases.items():
        bot.send_text("rep_e1", text)
        reply = bot.last_text("rep_e1")
        assert expected in reply, (text, reply)
        assert "例" in reply or "没有找到" in reply
    assert reminders(bot) == []


def test_followup_in_the_past_says_it_has_passed(bot: Bot) -> None:
    setup_customer(bot)
    cases = {
        "跟进 华东精密机械 昨天 送样品": "「昨天」是 11月26日(周四) 09:00，这个时间已经过去了",
        "跟进 华东精密机械 前天下午3点 送样品": "「前天下午3点」是 11月25日(周三) 15:00，这个时间已经过去了",
        "跟进 华东精密机械 2小时前 送样品": "「2小时前」是 11月27日(周五) 08:00",
    }
    for text, expected in cases.items():
        bot.send_text("rep_e1", text)
        reply = bot.last_text("rep_e1")
        assert expected in reply, (text, reply)
        assert "看不懂" not in reply
        assert "例：跟进 华东精密机械 明天上午10点 送样品" in reply, reply
    assert reminders(bot) == []


# --- reminder card taps ----------------------------------------------------------------------------


def test_card_done_updates_in_place_and_stale_tap_changes_nothing(bot: Bot) -> None:
    setup_customer(bot)
    bot.send_text("rep_e1", "跟进 华东精密机械 明天上午10点 送样品")
    bot.run_job("reminders", sh(2026, 11, 28, 10, 0))
    [card] = reminder_cards(bot, "rep_e1")
    assert [h["value"] for h in card["horizontal_content_list"]] == [
        "送样品",
        "华东精密机械",
        "11月28日(周六) 10:00",
    ]
    bot.clock.set(sh(2026, 11, 28, 10, 5))
    bot.tap("rep_e1", card["task_id"], key_of(card, "已完成"))
    [card] = reminder_cards(bot, "rep_e1")
    assert card["replace_text"] == "已完成"
    [r] = reminders(bot)
    assert r.status == ReminderStatus.DONE and r.completed_at == sh(2026, 11, 28, 10, 5)
    # A stale tap (推迟 on a done reminder): greyed, nothing changes.
    bot.tap("rep_e1", card["task_id"], key_of(card, "推迟1天"))
    [r2] = reminders(bot)
    assert r2.status == "done" and r2.due_at == r.due_at and r2.snooze_count == 0
    assert reminder_cards(bot, "rep_e1")[0]["replace_text"] == "已完成"


def test_card_snooze_moves_due_and_sends_a_new_card(bot: Bot) -> None:
    setup_customer(bot)
    bot.send_text("rep_e1", "跟进 华东精密机械 明天上午10点 送样品")
    bot.run_job("reminders", sh(2026, 11, 28, 10, 0))
    [card] = reminder_cards(bot, "rep_e1")
    bot.tap("rep_e1", card["task_id"], key_of(card, "推迟1天"))
    [r] = reminders(bot)
    # 推迟1天 from Saturday lands on the next working day, same time.
    assert r.due_at == sh(2026, 11, 30, 10, 0) and r.notified_at is None and r.snooze_count == 1
    assert reminder_cards(bot, "rep_e1")[0]["replace_text"] == "已推迟至 11月30日(周一) 10:00"
    # The old card tapped again: stale, nothing moves.
    bot.tap("rep_e1", card["task_id"], key_of(card, "推迟1周"))
    assert reminders(bot)[0].due_at == sh(2026, 11, 30, 10, 0)
    bot.run_job("reminders", sh(2026, 11, 30, 9, 59))
    assert len(reminder_cards(bot, "rep_e1")) == 1
    bot.run_job("reminders", sh(2026, 11, 30, 10, 0))
    cards = reminder_cards(bot, "rep_e1")
    assert len(cards) == 2 and cards[1]["task_id"].startswith(f"rem{r.id}n1-")
    bot.tap("rep_e1", cards[1]["task_id"], key_of(cards[1], "推迟1周"))
    assert reminders(bot)[0].due_at == sh(2026, 12, 7, 10, 0)


def test_someone_else_cannot_tap_a_reminder_card(bot: Bot) -> None:
    setup_customer(bot)
    bot.send_text("rep_e1", "跟进 华东精密机械 明天上午10点 送样品")
    bot.run_job("reminders", sh(2026, 11, 28, 10, 0))
    [card] = reminder_cards(bot, "rep_e1")
    bot.tap("rep_e2", card["task_id"], key_of(card, "已完成"))
    assert "不是发给您的" in bot.last_text("rep_e2")
    assert reminders(bot)[0].status == "open"
    with bot.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
        assert [(a.actor, a.task_id) for a in denied] == [("rep_e2", card["task_id"])]
    # A key naming an unknown snooze arg selects nothing.
    bot.tap("rep_e1", card["task_id"], CardKey("rem.snooze", "1y").pack())
    assert reminders(bot)[0].status == "open" and reminders(bot)[0].snooze_count == 0


def test_done_by_text_and_todo(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c1 = f.customer(s, "华东精密机械")
        c2 = f.customer(s, "苏州动力")
        c3 = f.customer(s, "杭州泵业")
        f.opportunity(s, c2, priority="A")
        f.opportunity(s, c3, priority="B")
        overdue = f.reminder(s, c1, due_at=sh(2026, 11, 26, 9, 0), title="催回款").id
        low = f.reminder(s, c1, due_at=sh(2026, 11, 28, 9, 0), title="送样品").id
        a = f.reminder(s, c2, due_at=sh(2026, 11, 28, 16, 0), title="技术交流").id
        b = f.reminder(s, c3, due_at=sh(2026, 11, 28, 11, 0), title="报价确认").id
        f.reminder(s, c1, due_at=sh(2026, 11, 28, 9, 0), owner="rep_e2", title="别人的")
    bot.send_text("rep_e1", "待办")
    text = bot.last_text("rep_e1")
    order = [text.index(f"#{i} ") for i in (overdue, a, b, low)]
    assert order == sorted(order), text
    assert "【已逾期】" in text.split("\n")[1] and "别人的" not in text
    bot.send_text("rep_e1", f"完成 {a}")
    assert "已完成" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", f"完成 #{a}")
    assert "已经完成过了" in bot.last_text("rep_e1")
    bot.send_text("rep_e2", f"完成 {low}")
    assert "没有找到" in bot.last_text("rep_e2")
    bot.send_text("rep_e1", "完成 明天")
    assert "用法" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "待办")
    assert "技术交流" not in bot.last_text("rep_e1")
    assert [r.status for r in reminders(bot)] == ["open", "open", "done", "open", "open"]


def test_todo_lists_pending_approvals_and_is_short(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        opp = f.opportunity(s, c, name="产线改造")
        f.pending_approval(s, opp, approver="sup_east", amount="80000")
        for i in range(12):
            f.reminder(s, c, due_at=sh(2026, 11, 28, 9, i), owner="sup_east", title=f"事项{i}")
    bot.send_text("sup_east", "待办")
    text = bot.last_text("sup_east")
    assert "事项9" in text and "事项10" not in text
    more = bot.cards("sup_east")[-1]  # the rest is one tap away: 更多
    assert more["main_title"]["title"] == "还有3条待办" and [b["text"] for b in more["button_list"]] == [
        "更多"
    ]
    bot.tap("sup_east", more["task_id"], more["button_list"][0]["key"])
    page = bot.last_text("sup_east")
    assert "第2页" in page and "事项10" in page and "事项11" in page and "待审批 报价#" in page
    bot.send_text("rep_e1", "待办")
    assert "没有待办" in bot.last_text("rep_e1")
    with bot.session() as s, s.begin():
        s.query(Reminder).delete()
    bot.send_text("sup_east", "待办")
    assert "待审批 报价#" in bot.last_text("sup_east") and "¥80,000" in bot.last_text("sup_east")


def test_todo_shows_priority_overdue_and_the_right_hint(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c1 = f.customer(s, "华东精密机械")
        c2 = f.customer(s, "苏州动力")
        scored = f.opportunity(s, c1, name="产线改造", priority="A")
        scored.score, scored.score_items = 75, ["预算明确", "决策人已接触"]
        f.opportunity(s, c2, name="泵站", priority="C")  # never scored: its priority is not known
        overdue = f.reminder(s, c1, due_at=sh(2026, 11, 26, 9, 0), title="催回款").id
        unknown = f.reminder(s, c2, due_at=sh(2026, 11, 28, 9, 0), title="送样品").id
        f.pending_approval(s, scored, approver="sup_east", amount="80000")
    bot.send_text("rep_e1", "待办")
    text = bot.last_text("rep_e1")
    lines = text.splitlines()
    assert next(ln for ln in lines if ln.startswith(f"#{overdue} ")).startswith(
        f"#{overdue} 【已逾期】A级 11月26日"
    )
    line = next(ln for ln in lines if ln.startswith(f"#{unknown} "))
    assert "级" not in line and "送样品" in line
    assert "「完成 <编号>」" in text and "「已完成」" in text
    # The requester's own quote in approval: not a to-do, but 撤回 is offered.
    assert (
        "您发起、正在审批的报价" in text
        and "报价#1 A级 华东精密机械·产线改造 ¥80,000（等陈主管审批，第1/3步）" in text
    )
    assert "撤回 #1" in text

    # The approver: the quote is a to-do, and the hint is the card, not 完成 <编号>.
    bot.send_text("sup_east", "待办")
    text = bot.last_text("sup_east")
    assert "待审批 报价#1 A级 华东精密机械·产线改造 ¥80,000（第1/3步）" in text
    assert "审批卡片上点「同意」或「驳回」" in text
    assert "完成 <编号>" not in text and "撤回" not in text

    # Nothing but the own quote: "no to-dos", and still the 撤回 hint.
    with bot.session() as s, s.begin():
        s.query(Reminder).delete()
    bot.send_text("rep_e1", "待办")
    text = bot.last_text("rep_e1")
    assert "没有待办" in text and "撤回 #1" in text


# --- visit follow-up buttons -----------------------------------------------------------------------


def _send_visit_card(bot: Bot, task_id: str) -> dict[str, Any]:
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "拜访已记录"},
        "task_id": task_id,
        "button_list": [
            {"text": "明天", "key": CardKey("visit.followup", "1d").pack()},
            {"text": "3天后", "key": CardKey("visit.followup", "3d").pack()},
            {"text": "下周", "key": CardKey("visit.followup", "1w").pack()},
        ],
    }
    with bot.session() as s, s.begin():
        enqueue(s, reply=Card(card), recipient="rep_e1", dedup_key=f"test:{task_id}", now=bot.clock())
    bot.deliver()
    return card


def test_visit_followup_buttons_create_once_and_update_card(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        visit = f.visit_with_card(
            s, c, summary="介绍了新款伺服电机，客户关心交期和售后服务，需要下周给出方案"
        )
        visit_id, customer_id = visit.id, c.id
    card = _send_visit_card(bot, f"visit-{visit_id}")
    bot.tap("rep_e1", card["task_id"], card["button_list"][1]["key"])
    [r] = reminders(bot)
    assert (
        r.due_at == sh(2026, 12, 2, 9, 0) and r.customer_id == customer_id and r.source == "visit"
    )  # 3 working days
    assert r.title.startswith("跟进拜访：介绍了新款伺服电机") and r.title.endswith("…")
    [updated] = [c for c in bot.cards("rep_e1") if c["task_id"] == f"visit-{visit_id}"]
    assert updated["replace_text"] == "已设置跟进 12月2日(周三) 09:00"
    bot.tap("rep_e1", card["task_id"], card["button_list"][1]["key"])  # second tap: nothing new
    assert len(reminders(bot)) == 1
    bot.tap("rep_e2", card["task_id"], card["button_list"][0]["key"])  # not the recipient
    assert "不是发给您的" in bot.last_text("rep_e2") and len(reminders(bot)) == 1
    # another button of the same card: the card's action is used once (issue 16), nothing new is set
    bot.tap("rep_e1", card["task_id"], card["button_list"][2]["key"])
    bot.tap("rep_e1", card["task_id"], card["button_list"][0]["key"])
    assert len(reminders(bot)) == 1


# --- on-time rate ----------------------------------------------------------------------------------


def test_on_time_rate(bot: Bot) -> None:
    start, end = sh(2026, 11, 1, 0, 0), sh(2026, 12, 1, 0, 0)
    with bot.session() as s, s.begin():
        c = f.customer(s)
        on_time = f.reminder(s, c, due_at=sh(2026, 11, 10, 9, 0))
        on_time.status, on_time.completed_at = "done", sh(2026, 11, 11, 8, 0)  # within 24 h
        late = f.reminder(s, c, due_at=sh(2026, 11, 12, 9, 0))
        late.status, late.completed_at = "done", sh(2026, 11, 13, 10, 0)  # 25 h
        escalated = f.reminder(s, c, due_at=sh(2026, 11, 14, 9, 0))
        escalated.status, escalated.completed_at, escalated.escalated_at = (
            "done",
            sh(2026, 11, 14, 10, 0),
            sh(2026, 11, 15, 9, 0),
        )
        f.reminder(s, c, due_at=sh(2026, 11, 20, 9, 0))  # still open: due, not done
        cancelled = f.reminder(s, c, due_at=sh(2026, 11, 21, 9, 0))
        cancelled.status = "cancelled"
        f.reminder(s, c, due_at=sh(2026, 12, 1, 0, 0))  # outside [start, end)
        other = f.reminder(s, c, due_at=sh(2026, 11, 10, 9, 0), owner="rep_e2")
        other.status, other.completed_at = "done", sh(2026, 11, 10, 9, 0)
    with bot.session() as s:
        assert on_time_rate(s, userids=["rep_e1"], start=start, end=end) == (1, 4)
        assert on_time_rate(s, userids=None, start=start, end=end) == (2, 5)
        assert on_time_rate(s, userids=[], start=start, end=end) == (0, 0)
        assert on_time_rate(s, userids=["rep_e1"], start=start, end=start + timedelta(days=1)) == (0, 0)


def test_followup_times_across_month_and_year_boundaries(bot: Bot) -> None:
    setup_customer(bot)
    bot.clock.set(sh(2026, 12, 31, 20, 0))  # Thursday evening, last day of the year
    cases = [
        ("明天", sh(2027, 1, 1, 9, 0), "2027年1月1日(周五) 09:00"),
        ("周五下午3点", sh(2027, 1, 1, 15, 0), "2027年1月1日(周五) 15:00"),
        ("下个月初", sh(2027, 1, 1, 9, 0), "2027年1月1日(周五) 09:00"),
        ("3天后", sh(2027, 1, 5, 9, 0), "2027年1月5日(周二) 09:00"),  # three working days
        ("今晚9点", sh(2026, 12, 31, 21, 0), "12月31日(周四) 21:00"),
    ]
    for expression, due, shown in cases:
        bot.send_text("rep_e1", f"跟进 华东精密机械 {expression} 拜年")
        assert shown in bot.last_text("rep_e1"), (expression, bot.last_text("rep_e1"))
        assert reminders(bot)[-1].due_at == due, expression
