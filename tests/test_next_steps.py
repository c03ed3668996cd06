"""Every answer ends with its next step as a button: customer 360 (拜访 · 跟进 · 新商机), a new opportunity
(推进 · 评分), an escalation (查看客户 · 已协助), a rejected quote (重新报价)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import Opportunity, Quote, Visit
from tests import reminders_factory as f
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot


def button(card: dict[str, Any], text: str) -> str:
    return next(b["key"] for b in card["button_list"] if b["text"] == text)


def test_customer_360_ends_with_visit_followup_new_opportunity(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        f.customer(s, "华东精密机械")
    bot.send_text("rep_e1", "客户 华东精密")
    card = bot.cards("rep_e1")[-1]
    assert [b["text"] for b in card["button_list"]] == ["拜访", "跟进", "新商机"]
    bot.tap("rep_e1", card["task_id"], button(card, "拜访"))
    assert "拜访的纪要" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "谈了新产线的报价，下周送样")
    with bot.session() as s:
        [visit] = s.scalars(select(Visit)).all()
        assert visit.summary == "谈了新产线的报价，下周送样" and visit.userid == "rep_e1"
    bot.tap("rep_e1", card["task_id"], button(card, "新商机"))
    bot.send_text("rep_e1", "二期产线 30万")
    assert "已新建商机" in bot.texts("rep_e1")[-1]
    # Somebody else tapping the same button gets nothing of the customer (scope applies as if typed).
    bot.tap("rep_s1", card["task_id"], button(card, "跟进"))
    assert "没有找到" in bot.last_text("rep_s1")


def test_new_opportunity_ends_with_advance_and_score(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        f.customer(s, "华东精密机械")
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    card = bot.cards("rep_e1")[-1]
    assert [b["text"] for b in card["button_list"]] == ["推进", "评分"]
    bot.tap("rep_e1", card["task_id"], button(card, "推进"))
    with bot.session() as s:
        assert s.scalars(select(Opportunity.stage)).one() == "初步接洽"
    bot.tap("rep_e1", card["task_id"], button(card, "评分"))
    assert "预算明确" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "预算明确 决策人已接触")
    with bot.session() as s:
        assert s.scalars(select(Opportunity.score)).one() == 75


def test_rejected_quote_offers_requote(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 8万 含安装")
    bot.deliver()
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], "v1:quote.reject")
    bot.send_text("sup_east", "价格低于成本线")
    bot.deliver()
    rejected = bot.cards("rep_e1")[-1]
    assert "审批经过：第1步 陈主管 驳回" in rejected["sub_title_text"]
    bot.tap("sup_east", rejected["task_id"], button(rejected, "重新报价"))  # not the requester's card to use
    assert "不是发给您的" in bot.last_text("sup_east")
    bot.tap("rep_e1", rejected["task_id"], button(rejected, "重新报价"))
    assert "重新报价「数控改造」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "7.6万 让利5%")
    with bot.session() as s:
        quotes = s.scalars(select(Quote).order_by(Quote.id)).all()
        assert [q.status for q in quotes] == ["rejected", "pending"] and int(quotes[1].amount) == 76000


def test_escalation_card_view_customer_and_assisted(bot: Bot) -> None:
    from datetime import datetime

    from services.parsing import SHANGHAI

    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        f.reminder(s, c, due_at=datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI), title="送样品")
    bot.run_job("reminders", datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    [card] = [c for c in bot.cards("sup_east") if c["main_title"]["title"] == "团队跟进逾期"]
    assert "红" not in str(card) and [b["text"] for b in card["button_list"]] == ["查看客户", "已协助"]
    bot.tap("sup_east", card["task_id"], button(card, "查看客户"))
    assert "华东精密机械" in bot.texts("sup_east")[-1]
    bot.tap("rep_e2", card["task_id"], button(card, "已协助"))
    assert "不是发给您的" in bot.last_text("rep_e2")
    bot.tap("sup_east", card["task_id"], button(card, "已协助"))
    bot.deliver()
    updated = [c for c in bot.cards("sup_east") if c["task_id"] == card["task_id"] and c.get("replace_text")]
    assert updated and updated[-1]["replace_text"] == "已协助"
