"""帮助 lists exactly what the sender's role may use; the location/photo hint only for roles that may 拜访."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import build_routes
from models import User
from tests.harness import Bot

HINT = "直接发送位置或照片"


def listed(text: str) -> set[str]:
    return {line[2:].split("：")[0] for line in text.splitlines() if line.startswith("• ")}


@pytest.mark.parametrize("userid", ["rep_e1", "sup_east", "tech", "fin", "boss", "admin"])
def test_help_lists_only_what_the_role_may_use(bot: Bot, userid: str) -> None:
    bot.send_text(userid, "帮助")
    text = bot.last_text(userid)
    with bot.session() as s:
        role = s.scalars(select(User.role).where(User.userid == userid)).one()
    allowed = {info.name for info in build_routes().commands() if info.allows(role)}
    assert listed(text) == allowed
    assert (HINT in text) == ("拜访" in allowed)


def test_finance_and_tech_lead_see_no_quote_request_and_no_visit_hint(bot: Bot) -> None:
    for userid in ("fin", "tech"):
        bot.send_text(userid, "帮助")
        text = bot.last_text(userid)
        assert {"报价", "撤回", "拜访", "商机"}.isdisjoint(listed(text)), text
        assert {"待办", "委托"} <= listed(text)
        assert HINT not in text
    bot.send_text("rep_e1", "帮助")
    text = bot.last_text("rep_e1")
    assert {"报价", "撤回", "拜访"} <= listed(text) and HINT in text


def test_finance_cannot_request_a_quote(bot: Bot) -> None:
    bot.send_text("fin", "报价 华东精密 8万")
    reply = bot.last_text("fin")
    assert "「报价」只有" in reply and "已提交报价" not in reply
