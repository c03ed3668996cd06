"""商机, 推进 (gates), 输单, 评分, 合同, 回款: good input, each kind of bad input, and the gates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Contract, Opportunity, Payment, Quote, QuoteStatus, StageMove, Visit
from tests.harness import Bot

NEW = "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678"


def opp(bot: Bot) -> Opportunity:
    with bot.session() as s:
        found = s.scalars(select(Opportunity)).one()
        s.expunge(found)
        return found


def n(bot: Bot, model: type) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def sbot(bot: Bot) -> Bot:
    bot.send_text("rep_e1", NEW)
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    assert "已新建商机" in bot.last_text("rep_e1")
    return bot


def add_visit(bot: Bot) -> None:
    bot.send_text("rep_e1", "拜访 华东精密 初次拜访")


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("80000", "80000"),
        ("8万", "80000"),
        ("8.5万元", "85000"),
        ("¥120,000", "120000"),
        ("三十万", "300000"),
    ],
)
def test_amount_forms(bot: Bot, raw: str, amount: str) -> None:
    bot.send_text("rep_e1", NEW)
    bot.send_text("rep_e1", f"商机 华东精密 二期 {raw}")
    assert opp(bot).amount == Decimal(amount)


def test_open_opportunity(sbot: Bot) -> None:
    o = opp(sbot)
    assert (o.name, o.amount, o.stage, o.owner_userid) == (
        "二期产线",
        Decimal("300000"),
        "线索分配",
        "rep_e1",
    )
    with sbot.session() as s:
        assert (
            s.scalars(select(AuditEntry).where(AuditEntry.entity == "opportunity")).one().action == "create"
        )


def test_opportunity_without_amount_keeps_words_in_name(bot: Bot) -> None:
    bot.send_text("rep_e1", NEW)
    bot.send_text("rep_e1", "商机 华东精密 二期 产线改造")
    o = opp(bot)
    assert (o.name, o.amount) == ("二期 产线改造", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("商机", "用法：商机 客户 名称 [金额]"),
        ("商机 华东精密", "请写上客户和商机名称"),
        ("商机 华东精密 8万", "请写上商机名称"),
        ("商机 没这家 二期", "没有找到客户"),
        ("商机 华东精密 三期 -5万", "不能为负数"),
        ("商机 华东精密 三期 1.2.3万", "看不懂金额"),
    ],
)
def test_bad_opportunity_input(bot: Bot, text: str, expected: str) -> None:
    bot.send_text("rep_e1", NEW)
    bot.send_text("rep_e1", text)
    assert expected in bot.last_text("rep_e1")
    assert n(bot, Opportunity) == 0


def test_advance_through_stages_and_visit_gate(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "推进 二期产线")
    assert "线索分配 → 初步接洽" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "推进 二期产线")
    assert "需要至少一次拜访记录" in sbot.last_text("rep_e1")
    assert opp(sbot).stage == "初步接洽"
    add_visit(sbot)
    sbot.send_text("rep_e1", "推进 二期产线 方案制定")
    assert "初步接洽 → 方案制定" in sbot.last_text("rep_e1")
    step = sbot.cards("rep_e1")[-1]  # the next stage is entered by a quote: the next step is 报价, a button
    assert "→ 报价审批" in step["main_title"]["desc"]
    assert [b["text"] for b in step["button_list"]] == ["报价", "跟进"]
    sbot.send_text("rep_e1", "推进 二期产线")
    assert "只能通过申请报价进入" in sbot.last_text("rep_e1")
    assert opp(sbot).stage == "方案制定"
    with sbot.session() as s:
        assert [m.to_stage for m in s.scalars(select(StageMove).order_by(StageMove.id))] == [
            "线索分配",
            "初步接洽",
            "方案制定",
        ]
    sbot.tap("rep_e2", step["task_id"], step["button_list"][0]["key"])
    sbot.send_text(
        "rep_e2", "8万 含安装"
    )  # another rep's tap: the command runs in their scope, finds nothing
    assert "没有找到商机" in sbot.last_text("rep_e2")
    sbot.tap("rep_e1", step["task_id"], step["button_list"][0]["key"])
    assert "报价金额" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "4万 含安装")
    assert "已提交报价 #" in sbot.last_text("rep_e1")
    with sbot.session() as s:
        from models import Quote

        assert [q.requester_userid for q in s.scalars(select(Quote))] == ["rep_e1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("推进", "用法：推进 商机 [阶段]"),
        ("推进 没这个", "没有找到商机"),
        ("推进 二期产线 实施交付", "需要先登记合同"),
        ("推进 二期产线 输单", "输单 二期产线 原因"),
        ("推进 二期产线 火星阶段", "没有「火星阶段」这个阶段。可选：线索分配、初步接洽"),
    ],
)
def test_bad_advance(sbot: Bot, text: str, expected: str) -> None:
    sbot.send_text("rep_e1", text)
    assert expected in sbot.last_text("rep_e1")
    assert opp(sbot).stage == "线索分配"


def test_lose(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "输单 二期产线")
    assert "用法：输单" in sbot.last_text("rep_e1") and opp(sbot).closed_at is None
    sbot.send_text("rep_e1", "输单 二期产线 预算取消")
    o = opp(sbot)
    assert (o.stage, o.lost_reason) == ("输单", "预算取消") and o.closed_at is not None
    sbot.send_text("rep_e1", f"推进 #{o.id}")
    assert "已关闭" in sbot.last_text("rep_e1")


def test_score(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "评分 二期产线 预算明确、决策人已接触")
    assert "评分 75，优先级 A" in sbot.last_text("rep_e1") or "评分 75" in sbot.last_text("rep_e1")
    o = opp(sbot)
    assert o.score == 75 and o.score_items == ["预算明确", "决策人已接触"]
    sbot.send_text("rep_e1", "评分 二期产线 关系好")
    assert "未知的评分项：关系好" in sbot.last_text("rep_e1") and "用法：评分" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "评分 二期产线")
    assert "用法：评分" in sbot.last_text("rep_e1")
    assert opp(sbot).score == 75
    sbot.send_text("rep_e1", "评分 二期产线 无")
    assert opp(sbot).score == 0


def _approved_quote(bot: Bot) -> None:
    o = opp(bot)
    with bot.session() as s, s.begin():
        s.add(Visit(customer_id=o.customer_id, userid="rep_e1", summary="x", visited_at=bot.clock()))
        s.get_one(Opportunity, o.id).stage = "报价审批"
        s.add(
            Quote(
                opportunity_id=o.id,
                amount=Decimal(280000),
                requester_userid="rep_e1",
                status=QuoteStatus.APPROVED,
                created_at=bot.clock(),
            )
        )


def test_contract_needs_approved_quote(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "合同 二期产线 28万")
    assert "需要一份已审批通过的报价" in sbot.last_text("rep_e1")
    assert n(sbot, Contract) == 0
    _approved_quote(sbot)
    sbot.send_text("rep_e1", "合同 二期产线 二十八万")
    assert "已登记合同" in sbot.last_text("rep_e1")
    assert opp(sbot).stage == "合同签署"
    with sbot.session() as s:
        c = s.scalars(select(Contract)).one()
        assert c.amount == Decimal(280000) and c.signed_by == "rep_e1"
    sbot.send_text("rep_e1", "合同 二期产线 1万")
    assert (
        "已经有合同" in sbot.last_text("rep_e1")
        and "没有重复登记" in sbot.last_text("rep_e1")
        and n(sbot, Contract) == 1
    )


@pytest.mark.parametrize("text", ["合同", "合同 二期产线", "合同 二期产线 很多钱"])
def test_bad_contract(sbot: Bot, text: str) -> None:
    sbot.send_text("rep_e1", text)
    assert "用法：合同 商机 金额" in sbot.last_text("rep_e1")


def test_payments(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "回款 华东精密 1万")
    assert "还没有合同" in sbot.last_text("rep_e1")
    _approved_quote(sbot)
    sbot.send_text("rep_e1", "合同 二期产线 28万")
    with sbot.session() as s:
        cid = s.scalars(select(Contract)).one().id
    sbot.send_text("rep_e1", f"回款 #{cid} 10万")
    assert "已登记回款 ¥100,000" in sbot.last_text("rep_e1") and "尚未收 ¥180,000" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "回款 华东精密 8万")
    assert "尚未收 ¥100,000" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", f"回款 #{cid} 20万")
    assert "超过" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "回款 华东精密")
    assert "用法：回款" in sbot.last_text("rep_e1")
    sbot.send_text("rep_s1", f"回款 #{cid} 1万")  # another region: like a missing contract
    assert f"没有找到合同 #{cid}" in sbot.last_text("rep_s1")
    sbot.send_text("rep_e1", "回款 #999 1万")
    assert "没有找到合同 #999" in sbot.last_text("rep_e1")
    with sbot.session() as s:
        assert [p.amount for p in s.scalars(select(Payment).order_by(Payment.id))] == [
            Decimal(100000),
            Decimal(80000),
        ]
        assert (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "payment")) == 2
        )


def test_opportunity_pick_by_number(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "商机 华东精密 二期配套 5万")
    sbot.send_text("rep_e1", "推进 二期")
    assert "找到2个商机" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "2")
    assert "二期配套" in sbot.last_text("rep_e1") and "初步接洽" in sbot.last_text("rep_e1")
    with sbot.session() as s:
        stages = {o.name: o.stage for o in s.scalars(select(Opportunity))}
    assert stages == {"二期产线": "线索分配", "二期配套": "初步接洽"}


def test_technical_roles_cannot_write(sbot: Bot) -> None:
    sbot.send_text("tech", "推进 二期产线")
    assert "只有" in sbot.last_text("tech")


def test_a_pick_whose_command_is_refused_leaves_no_dialog_behind(sbot: Bot) -> None:
    sbot.send_text("rep_e1", "商机 华东精密 二期配套 5万")
    sbot.send_text("rep_e1", "推进 二期 方案制定")  # no visit yet: the gate will refuse whichever is picked
    assert "找到2个商机" in sbot.last_text("rep_e1")
    sbot.send_text("rep_e1", "1")
    assert "拜访" in sbot.last_text("rep_e1")  # the gate's message, with the way forward
    sbot.send_text("rep_e1", "2")  # a plain "2" now is not a pick any more
    assert "找到" not in sbot.last_text("rep_e1") and "方案制定" not in sbot.last_text("rep_e1")
    with sbot.session() as s:
        assert {o.stage for o in s.scalars(select(Opportunity))} == {"线索分配"}
