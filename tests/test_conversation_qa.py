"""QA fixes on the conversation side, against the real understanding engine (the bot's own words)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from models import Proposal, Reminder, Visit
from tests.harness import SHANGHAI, Bot
from tests.test_conversation import (
    CANCEL,
    CONFIRM,
    EDIT,
    Said,
    add_customer,
    card_text,
    count,
    last_card,
    tap,
    teach,
)


@pytest.mark.parametrize(
    ("reply", "shown", "due"),
    [
        ("周四下午3点", "12月3日", datetime(2026, 12, 3, 15, 0, tzinfo=SHANGHAI)),
        ("改成后天下午两点", "11月29日", datetime(2026, 11, 29, 14, 0, tzinfo=SHANGHAI)),
        ("时间改为下周二上午十点。", "12月1日", datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)),
    ],
)
def test_edit_with_only_a_time_changes_the_followups_time_and_keeps_its_title(
    bot: Bot, reply: str, shown: str, due: datetime
) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    card = last_card(bot, "rep_e1")
    assert "11月30日" in card_text(card) and "给永盛打电话" in card_text(card)
    tap(bot, "rep_e1", card, EDIT)
    bot.send_text("rep_e1", reply)
    again = last_card(bot, "rep_e1")
    assert again["task_id"] != card["task_id"]
    assert (
        shown in card_text(again)
        and "事项:给永盛打电话" in card_text(again)
        and reply not in card_text(again)
    )
    tap(bot, "rep_e1", again, CONFIRM)
    with bot.session() as s:
        reminder = s.scalars(select(Reminder)).one()
        assert reminder.due_at.astimezone(SHANGHAI) == due and reminder.title == "给永盛打电话"


def test_edit_of_a_visits_followup_time_keeps_the_visit_note(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司", contact="王经理")
    bot.send_text("rep_e1", "刚从永盛回来，王经理说下周三要看样品")
    card = last_card(bot, "rep_e1")
    assert "记录拜访" in card_text(card) and "12月2日" in card_text(card)
    tap(bot, "rep_e1", card, EDIT)
    bot.send_text("rep_e1", "跟进时间改成下周二上午十点")
    again = last_card(bot, "rep_e1")
    assert "12月1日" in card_text(again) and "改成" not in card_text(again)
    tap(bot, "rep_e1", again, CONFIRM)
    with bot.session() as s:
        visit = s.scalars(select(Visit)).one()
        reminder = s.scalars(select(Reminder)).one()
        assert "看样品" in visit.summary and "改成" not in visit.summary
        assert reminder.due_at.astimezone(SHANGHAI) == datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def test_edit_with_a_whole_new_sentence_still_replaces_the_proposal(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    tap(bot, "rep_e1", last_card(bot, "rep_e1"), EDIT)
    bot.send_text("rep_e1", "周四下午3点提醒我给永盛送样品")
    again = last_card(bot, "rep_e1")
    assert "12月3日" in card_text(again) and "送样品" in card_text(again) and "打电话" not in card_text(again)
    assert count(bot, Reminder) == 0


def test_a_message_that_is_not_a_number_leaves_a_numbered_pick_and_is_handled(bot: Bot) -> None:
    a = add_customer(bot, "华东精密一厂")
    add_customer(bot, "华东精密二厂")
    bot.send_text("rep_e1", "客户 华东精密")  # a typed command's pick
    assert "1. " in bot.last_text("rep_e1") and "2. " in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "客户 华东精密一厂")  # another command: it runs, the pick is left
    texts = bot.texts("rep_e1")
    assert texts[-2] == "已退出刚才的选择。" and texts[-1].startswith("【华东精密一厂】")
    bot.send_text("rep_e1", "2")  # the pick is gone: a bare number is no longer an answer to it
    assert not bot.last_text("rep_e1").startswith("【华东精密二厂】")

    teach(bot, {"华东那边去过了": lambda: Said("visit", customer_ids=(a, a + 1), text="华东那边去过了")})
    bot.send_text("rep_e1", "华东那边去过了")  # a proposal's pick
    assert "请回复编号" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "分期怎么登记")  # free text: to the understanding step, not "请回复 1-2"
    texts = bot.texts("rep_e1")
    assert texts[-2] == "已退出刚才的选择。" and "请回复 1-" not in texts[-1]
    assert count(bot, Visit) == 0


def test_a_number_still_answers_the_pick_and_a_wrong_one_is_asked_again(bot: Bot) -> None:
    add_customer(bot, "华东精密一厂")
    add_customer(bot, "华东精密二厂")
    bot.send_text("rep_e1", "客户 华东精密")
    bot.send_text("rep_e1", "7")
    assert "请回复 1-2" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "２")
    assert bot.last_text("rep_e1").startswith("【华东精密二厂】")


@pytest.mark.parametrize("first", [CONFIRM, CANCEL])
def test_a_second_tap_on_a_decided_card_is_answered_once_and_writes_nothing(bot: Bot, first: str) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    card = last_card(bot, "rep_e1")
    tap(bot, "rep_e1", card, first)
    reminders = count(bot, Reminder)
    texts_before = len(bot.texts("rep_e1"))
    for again in (CONFIRM, CANCEL):
        tap(bot, "rep_e1", card, again)
    texts = bot.texts("rep_e1")
    assert texts[texts_before:] == ["这张卡片已处理过。", "这张卡片已处理过。"]
    assert count(bot, Reminder) == reminders == (1 if first == CONFIRM else 0)
    with bot.session() as s:
        assert s.scalars(select(Proposal)).one().status == ("confirmed" if first == CONFIRM else "cancelled")
