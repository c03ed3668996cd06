"""A mistyped command word: a read-only command is asked about without 保存; a bare one is suggested."""

from __future__ import annotations

from tests.harness import Bot
from tests.test_conversation import CONFIRM, add_customer, card_text, last_card, tap


def test_a_typo_of_a_read_only_command_is_asked_without_saving_anything(bot: Bot) -> None:
    add_customer(bot, "海川重工")
    bot.send_text("rep_e1", "客护 海川")
    card = last_card(bot, "rep_e1")
    shown = card_text(card) + card["main_title"].get("desc", "")
    assert "您是要「客户 海川」吗？" in shown and "保存" not in shown and "修改" not in shown
    tap(bot, "rep_e1", card, CONFIRM)
    assert any(t.startswith("【海川重工】") for t in bot.texts("rep_e1"))


def test_a_typo_of_a_writing_command_still_says_it_saves_on_confirm(bot: Bot) -> None:
    add_customer(bot, "海川重工")
    bot.send_text("rep_e1", "拜放 海川 谈了交期")
    card = last_card(bot, "rep_e1")
    assert card["main_title"]["desc"] == "点「确认」后才会保存" and "是要记录一次拜访" in card_text(card)


def test_a_bare_mistyped_command_word_suggests_the_command(bot: Bot) -> None:
    bot.send_text("rep_e1", "待半")
    reply = bot.last_text("rep_e1")
    assert "您是要「待办」吗？" in reply and "没看懂这条消息" not in reply
