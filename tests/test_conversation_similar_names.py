"""Names the engine matched only approximately, or not at all, on the conversation side: the answer asks
"您是不是要找「…」？" before showing or proposing anything about the guess, and a name that says another company
(佛山汇丰冶金 for 南京汇丰电气) is answered as not found, never with another customer's record."""

from __future__ import annotations

from types import SimpleNamespace

from models import Visit
from tests.harness import Bot
from tests.test_conversation import CONFIRM, add_customer, card_text, count, last_card, tap, teach


def _guess(intent: str, cid: int, mention: str, text: str = "") -> SimpleNamespace:
    return SimpleNamespace(
        intent=intent, customer_ids=(cid,), did_you_mean=True, mention=mention, text=text, confidence=0.6
    )


def test_an_approximate_name_in_a_question_is_asked_about_first(bot: Bot) -> None:
    cid = add_customer(bot, "苏州金桥精工机械有限公司", contact="吴工", phone="13912340001")
    teach(bot, {"金侨的电话多少": lambda: _guess("query.contact", cid, "金侨")})  # type: ignore[dict-item]
    bot.send_text("rep_e1", "金侨的电话多少")
    card = last_card(bot, "rep_e1")
    shown = card_text(card)
    assert "您是不是要找「苏州金桥精工机械有限公司」" in shown and "13912340001" not in shown
    tap(bot, "rep_e1", card, CONFIRM)
    assert "苏州金桥精工机械" in bot.last_text("rep_e1")


def test_an_approximate_name_in_a_write_asks_on_the_card_and_writes_nothing_before_confirm(bot: Bot) -> None:
    cid = add_customer(bot, "苏州金桥精工机械有限公司", contact="吴工")
    teach(bot, {"上午去了金侨，吴工说要扩产": lambda: _guess("visit", cid, "金侨", "吴工说要扩产")})  # type: ignore[dict-item]
    bot.send_text("rep_e1", "上午去了金侨，吴工说要扩产")
    assert "您是不是要找「苏州金桥精工机械有限公司」" in card_text(last_card(bot, "rep_e1"))
    assert count(bot, Visit) == 0


def test_a_name_of_another_company_is_not_found_with_the_real_engine(bot: Bot) -> None:
    add_customer(bot, "南京汇丰电气设备有限公司", contact="周经理", phone="13912340002")
    add_customer(
        bot, "佛山汇丰冶金科技有限公司", owner="rep_s1", region="华南", contact="白总", phone="13912340003"
    )
    for text in ("佛山汇丰冶金的白总电话给我一下", "客户 佛山汇丰冶金", "上午去了佛山汇丰冶金，白总说要扩产"):
        before = len(bot.cards("rep_e1"))
        bot.send_text("rep_e1", text)
        reply = bot.last_text("rep_e1") + "".join(card_text(c) for c in bot.cards("rep_e1")[before:])
        assert "南京汇丰" not in reply and "13912340002" not in reply, (text, reply)
        assert "13912340003" not in reply and "佛山汇丰冶金科技" not in reply, (text, reply)
    assert count(bot, Visit) == 0
    bot.send_text("rep_e1", "南京汇丰的电话给我一下")
    assert "13912340002" in bot.last_text("rep_e1")
