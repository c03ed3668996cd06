"""Issue 16 #13 and #14 at the callback edge: a DTD is refused in the envelope only; dedup keys carry the sender."""

from __future__ import annotations

from sqlalchemy import func, select

from models import InboundEvent
from tests.harness import Bot


def test_case13_a_message_that_mentions_doctype_is_handled_not_refused(bot: Bot) -> None:
    response = bot.post_plain(bot.text_xml("rep_e1", '帮助 <!DOCTYPE html><!ENTITY x "y">'))
    assert response.status_code == 200
    assert bot.texts("rep_e1"), "the user heard nothing"
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_case13_a_real_declaration_in_the_decrypted_prolog_is_still_refused(bot: Bot) -> None:
    response = bot.post_plain('<!DOCTYPE x [<!ENTITY a "b">]>' + bot.text_xml("rep_e1", "帮助"))
    assert response.status_code == 400


def test_case14_one_msgid_from_two_users_reaches_both(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助", msg_id=777001)
    bot.send_text("rep_e2", "帮助", msg_id=777001)
    assert bot.texts("rep_e1") and bot.texts("rep_e2")
    before = len(bot.texts("rep_e1"))
    bot.send_text("rep_e1", "帮助", msg_id=777001)  # WeCom's retry of the same user's message
    assert len(bot.texts("rep_e1")) == before
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 2
