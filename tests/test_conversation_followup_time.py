"""With several times in a sentence, the follow-up takes the one attached to the follow-up action."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from models import Reminder
from tests.harness import SHANGHAI, Bot
from tests.test_conversation import CONFIRM, add_customer, last_card, tap


@pytest.mark.parametrize(
    "sentence",
    ["刚见完瑞丰陈总 月底定型号 周五下午打电话跟进", "刚从瑞丰回来，陈总说月底前定型号，周五下午给他打电话"],
)
def test_the_followup_time_is_the_one_of_the_followup_action_not_the_deadline(
    bot: Bot, sentence: str
) -> None:
    bot.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))  # a Wednesday
    add_customer(bot, "温州瑞丰阀门有限公司", contact="陈总")
    bot.send_text("rep_e1", sentence)
    card = last_card(bot, "rep_e1")
    followup = next(i["value"] for i in card["horizontal_content_list"] if i["keyname"] == "同时设跟进")
    assert "12月4日" in followup and "12月31日" not in followup
    assert "月底" in card.get("sub_title_text", "")  # the deadline stays in the note
    tap(bot, "rep_e1", card, CONFIRM)
    with bot.session() as s:
        due = s.scalars(select(Reminder.due_at)).one().astimezone(SHANGHAI)
    assert (due.month, due.day) == (12, 4) and due.hour >= 12
