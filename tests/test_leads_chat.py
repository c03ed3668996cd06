"""Leads through WeCom: 线索, the lead card's 接单 / 转派 / 无效, and the SLA job (real encrypted callbacks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cards.keys import LEAD_ACCEPT as ACCEPT
from cards.keys import LEAD_INVALID as INVALID
from cards.keys import LEAD_TRANSFER as TRANSFER
from cards.keys import LEAD_TRANSFER_OK as TRANSFER_OK
from cards.keys import CardKey
from models import Customer, Lead, Opportunity, Push
from tests.harness import SHANGHAI, Bot

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def _lead_card(bot: Bot, userid: str) -> dict:
    cards = [
        c
        for c in bot.cards(userid)
        if c["task_id"].startswith("lead") and not c["task_id"].startswith("leadtr")
    ]
    assert cards, f"no lead card for {userid}"
    return cards[-1]


def _new_lead(
    bot: Bot, sender: str = "sup_east", text: str = "线索 宁波华东精密 王总 13812345678 展会 想要报价"
) -> Lead:
    bot.send_text(sender, text)
    bot.deliver()
    with bot.session() as s:
        return s.scalars(select(Lead).order_by(Lead.id.desc())).first()


def test_lead_command_card_and_accept(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    lead = _new_lead(bot)
    assert "已按规则分配给" in bot.last_text("sup_east")
    rep = lead.assignee_userid
    card = _lead_card(bot, rep)
    assert [b["text"] for b in card["button_list"]] == ["接单", "转派", "无效"]
    values = {row["keyname"]: row["value"] for row in card["horizontal_content_list"]}
    assert values["公司"] == "宁波华东精密" and values["来源"] == "展会" and values["备注"] == "想要报价"
    assert "13812345678" not in str(card)

    other = "rep_e2" if rep == "rep_e1" else "rep_e1"
    bot.tap(other, card["task_id"], CardKey(ACCEPT).pack())
    assert "不是发给您的" in bot.last_text(other)

    bot.tap(rep, card["task_id"], CardKey(ACCEPT).pack())
    assert "已接单" in bot.last_text(rep) and "下一步：" not in bot.last_text(rep)
    step = bot.cards(rep)[-1]  # the next step is a button: 拜访 · 跟进
    assert [b["text"] for b in step["button_list"]] == ["拜访", "跟进"]
    bot.tap(other, step["task_id"], step["button_list"][0]["key"])  # not their customer: nothing to visit
    assert "没有找到客户" in bot.last_text(other)
    bot.tap(rep, step["task_id"], step["button_list"][0]["key"])
    assert "拜访的纪要" in bot.last_text(rep)
    with bot.session() as s:
        customer = s.scalar(select(Customer).where(Customer.name == "宁波华东精密"))
        assert customer.owner_userid == rep
        opp = s.scalar(select(Opportunity).where(Opportunity.customer_id == customer.id))
        assert opp.stage == "线索分配"
    bot.send_text(
        rep, "初次见面，聊了需求"
    )  # the answer to the 拜访 button's question: the visit is recorded
    bot.deliver()
    with bot.session() as s:
        assert s.get(Opportunity, opp.id).stage == "初步接洽"
        from models import Visit

        assert [v.userid for v in s.scalars(select(Visit).where(Visit.summary.like("初次见面%")))] == [rep]


def test_bad_lead_command_answers_usage_and_changes_nothing(bot: Bot) -> None:
    bot.send_text("rep_e1", "线索 华东精密")
    assert "用法：线索 公司 联系人 电话" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.scalar(select(Lead.id)) is None


def test_duplicate_asked_by_a_rep_of_another_region(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    bot.send_text("rep_e1", "新客户 宁波华东精密有限公司 区域=华东 联系人=王总 电话=13812345678")
    bot.deliver()
    bot.send_text("rep_s1", "线索 浙江华东精密 李总 13900000000 展会")
    reply = bot.last_text("rep_s1")
    assert reply == "已有同事在跟进，如需协同请联系主管。"
    bot.send_text("rep_e1", "线索 华东精密 王总 13812345678")
    assert "已是您的客户" in bot.last_text("rep_e1")


def test_invalid_asks_a_reason(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    lead = _new_lead(bot)
    rep = lead.assignee_userid
    bot.tap(rep, _lead_card(bot, rep)["task_id"], CardKey(INVALID).pack())
    assert "为什么无效" in bot.last_text(rep)
    bot.send_text(rep, "空号")
    assert "标记为无效" in bot.last_text(rep)
    with bot.session() as s:
        assert s.get(Lead, lead.id).status == "invalid"


def test_transfer_through_the_supervisor(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    lead = _new_lead(bot, sender="rep_s1")
    rep = lead.assignee_userid
    colleague = "rep_e2" if rep == "rep_e1" else "rep_e1"
    name = {"rep_e1": "张伟", "rep_e2": "李娜"}[colleague]
    bot.tap(rep, _lead_card(bot, rep)["task_id"], CardKey(TRANSFER).pack())
    bot.send_text(rep, name)
    assert "确认前仍由您负责" in bot.last_text(rep)
    transfer = [c for c in bot.cards("sup_east") if c["task_id"].startswith("leadtr")][-1]
    bot.tap("sup_east", transfer["task_id"], CardKey(TRANSFER_OK).pack())
    assert "已同意" in bot.last_text(rep)
    assert _lead_card(bot, colleague)["main_title"]["title"] == "新线索（改派给您）"
    with bot.session() as s:
        assert s.get(Lead, lead.id).assignee_userid == colleague


def test_sla_job_reminds_then_reassigns_once(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    lead = _new_lead(bot)
    first = lead.assignee_userid
    bot.run_job("leads", datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI))
    assert "还没有接单" in bot.last_text(first)
    bot.run_job("leads", datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI))
    with bot.session() as s:
        reminders = s.scalars(select(Push).where(Push.dedup_key.like("%lead-remind:%"))).all()
        assert len(reminders) == 1  # one reminder, counted against the assignee's push budget
    bot.run_job("leads", datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    with bot.session() as s:
        lead = s.get(Lead, lead.id)
        second = lead.assignee_userid
    assert second not in (first, None)
    assert "已按规则改派" in bot.last_text(first)
    assert _lead_card(bot, second)["main_title"]["title"] == "新线索（改派给您）"
    told = [c for c in bot.cards("sup_east") if c["main_title"]["title"] == "线索未按时接单"]
    assert len(told) == 1 and "未接单" in told[0]["sub_title_text"]
    # The first assignee's old card no longer works for them.
    old_card = [c for c in bot.cards(first) if c["task_id"].startswith("lead")][0]
    bot.tap(first, old_card["task_id"], CardKey(ACCEPT).pack())
    assert "改派" in bot.last_text(first)
    # Still nobody takes it: re-assigned again (back to the first rep here), the supervisor is not told again.
    bot.run_job("leads", datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
    assert len([c for c in bot.cards("sup_east") if c["main_title"]["title"] == "线索未按时接单"]) == 1
    with bot.session() as s:
        assert s.get(Lead, lead.id).assignee_userid == first


def test_a_lead_told_in_a_sentence_is_proposed_then_recorded_on_confirm(bot: Bot) -> None:
    from cards.keys import PROPOSAL_CONFIRM

    bot.clock.set(MONDAY)
    bot.send_text("rep_e1", "今天展会加了个客户，宁波华东精密的王总，电话13812345678，想要报价")
    card = [c for c in bot.cards("rep_e1") if "登记线索" in str(c["main_title"])][-1]
    text = str(card)
    assert "宁波华东精密" in text and "王总" in text and "13812345678" in text and "展会" in text
    with bot.session() as s:
        assert s.scalar(select(Lead.id)) is None  # nothing written before 确认
    confirm = next(b["key"] for b in card["button_list"] if b["key"].startswith(f"v1:{PROPOSAL_CONFIRM}"))
    bot.tap("rep_e1", card["task_id"], confirm)
    with bot.session() as s:
        lead = s.scalar(select(Lead))
        assert (
            lead is not None
            and lead.company == "宁波华东精密"
            and lead.source == "展会"
            and lead.note == "想要报价"
        )
        assert lead.created_by == "rep_e1"
    assert any(c["task_id"].startswith("lead") for c in bot.cards(lead.assignee_userid))
