"""帮助: at most 10 lines for the sender's role, most used first, only what the role may use;
帮助 <命令> gives that one command's usage and examples."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import build_routes
from models import User
from tests.harness import Bot

HINT = "位置和照片直接发"


def named(text: str) -> list[str]:
    """Every command the help names: the first word of each example line, and the 其他 line's words."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("• "):
            out.append(line[2:].split(" ")[0])
        elif line.startswith("其他："):
            out += line[3:].split(" ")
    return out


@pytest.mark.parametrize("userid", ["rep_e1", "sup_east", "tech", "fin", "boss", "admin"])
def test_help_is_at_most_ten_lines_and_names_only_what_the_role_may_use(bot: Bot, userid: str) -> None:
    bot.send_text(userid, "帮助")
    text = bot.last_text(userid)
    assert len(text.splitlines()) <= 10, text
    with bot.session() as s:
        role = s.scalars(select(User.role).where(User.userid == userid)).one()
    allowed = {info.name for info in build_routes().commands() if info.allows(role)}
    assert set(named(text)) == allowed - {"帮助", "取消"}, text
    assert (HINT in text) == ("拜访" in allowed)


def test_help_is_ordered_by_what_the_role_uses_most(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    assert named(bot.last_text("rep_e1"))[:3] == ["拜访", "跟进", "待办"]
    bot.send_text("sup_east", "帮助")
    assert named(bot.last_text("sup_east"))[:2] == ["日报", "待办"]
    bot.send_text("boss", "帮助")
    text = bot.last_text("boss")
    assert named(text)[0] == "日报" and not any(line.startswith("• 拜访") for line in text.splitlines())


def test_help_for_one_command_shows_only_that_command(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助 报价")
    text = bot.last_text("rep_e1")
    assert text.startswith("报价：") and "用法：报价" in text and text.count("例：") >= 2
    commands = [
        line.split("：", 1)[1].split(" ")[0]
        for line in text.splitlines()
        if line.startswith(("用法：", "例："))
    ]
    assert set(commands) == {"报价"}, text
    bot.send_text("fin", "帮助 报价")
    assert "「报价」只有" in bot.last_text("fin")
    bot.send_text("rep_e1", "帮助 飞行")
    assert "没有「飞行」这个命令" in bot.last_text("rep_e1")


def test_finance_and_tech_lead_see_no_quote_request_and_no_visit_hint(bot: Bot) -> None:
    for userid in ("fin", "tech"):
        bot.send_text(userid, "帮助")
        text = bot.last_text(userid)
        assert {"报价", "撤回", "拜访", "商机"}.isdisjoint(named(text)), text
        assert {"待办", "委托"} <= set(named(text))
        assert HINT not in text


def test_finance_cannot_request_a_quote(bot: Bot) -> None:
    bot.send_text("fin", "报价 华东精密 8万")
    reply = bot.last_text("fin")
    assert "「报价」只有" in reply and "已提交报价" not in reply
