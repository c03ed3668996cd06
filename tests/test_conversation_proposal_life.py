"""A proposal card's life: typed 取消 cancels it, and an old or superseded card no longer writes on 确认."""

from __future__ import annotations

from sqlalchemy import select

from cards.keys import VISIT_REPEAT
from models import Proposal, Reminder, Visit
from tests.harness import Bot
from tests.test_conversation import CONFIRM, add_customer, card_now, card_text, count, last_card, tap


def test_typed_cancel_cancels_the_open_proposal_and_greys_its_card(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    card = last_card(bot, "rep_e1")
    assert "给永盛打电话" in card_text(card)
    bot.send_text("rep_e1", "取消")
    assert bot.last_text("rep_e1") == "已取消，未做更改。"
    assert card_now(bot, "rep_e1", card["task_id"]).get("replace_text") == "已取消"
    tap(bot, "rep_e1", card, CONFIRM)  # much later, on the old card
    assert bot.last_text("rep_e1") == "这张卡片已处理过。"
    assert count(bot, Reminder) == 0
    with bot.session() as s:
        assert s.scalars(select(Proposal.status)).one() == "cancelled"


def test_typed_cancel_with_nothing_open_says_so(bot: Bot) -> None:
    bot.send_text("rep_e1", "取消")
    assert bot.last_text("rep_e1").startswith("当前没有进行中的操作")


def test_a_card_older_than_a_working_day_has_expired(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    card = last_card(bot, "rep_e1")
    bot.clock.advance(hours=9)
    tap(bot, "rep_e1", card, CONFIRM)
    assert bot.last_text("rep_e1") == "这张卡片已过期，请重新发送。"
    assert card_now(bot, "rep_e1", card["task_id"]).get("replace_text") == "已过期"
    assert count(bot, Reminder) == 0


def test_the_same_thing_said_again_supersedes_the_older_card(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    first = last_card(bot, "rep_e1")
    bot.send_text("rep_e1", "提醒我下周二给永盛打电话")
    second = last_card(bot, "rep_e1")
    assert second["task_id"] != first["task_id"]
    tap(bot, "rep_e1", first, CONFIRM)
    assert bot.last_text("rep_e1") == "这张卡片已过期，请重新发送。"
    assert count(bot, Reminder) == 0
    tap(bot, "rep_e1", second, CONFIRM)
    assert count(bot, Reminder) == 1


def test_cards_about_different_customers_stay_open_side_by_side(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    add_customer(bot, "南通宏达纺织有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    first = last_card(bot, "rep_e1")
    bot.send_text("rep_e1", "提醒我下周一给宏达打电话")
    second = last_card(bot, "rep_e1")
    tap(bot, "rep_e1", first, CONFIRM)
    tap(bot, "rep_e1", second, CONFIRM)
    assert count(bot, Reminder) == 2


def _visit_twice(bot: Bot) -> dict[str, object]:
    """The same visit sentence (with a follow-up time) confirmed twice; the second 确认 is asked about."""
    add_customer(bot, "嘉兴永盛化工有限公司", contact="王经理")
    for _ in range(2):
        bot.send_text("rep_e1", "刚从永盛回来，王经理说下周三要看样品")
        tap(bot, "rep_e1", last_card(bot, "rep_e1"), CONFIRM)
    repeat = last_card(bot, "rep_e1")
    assert "再记一次" in card_text(repeat)
    return repeat


def test_a_repeated_visits_followup_waits_with_the_visit(bot: Bot) -> None:
    repeat = _visit_twice(bot)
    assert count(bot, Visit) == 1 and count(bot, Reminder) == 1  # no second follow-up before 再记一次
    tap(bot, "rep_e1", repeat, VISIT_REPEAT)
    assert count(bot, Visit) == 2 and count(bot, Reminder) == 2
    assert bot.last_text("rep_e1").startswith("已设置跟进 #")


def test_declining_the_repeated_visit_drops_its_followup_too(bot: Bot) -> None:
    _visit_twice(bot)
    bot.send_text("rep_e1", "不用了")
    assert bot.last_text("rep_e1") == "好的，这次拜访和它的跟进都不重复记录。"
    assert count(bot, Visit) == 1 and count(bot, Reminder) == 1
