"""Payment plans in every form, milestones fixing relative due dates, invoices, and 回款 on instalments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Invoice, Milestone, Payment, Reminder
from tests.collections_factory import contract_id, instalments, ready_opportunity
from tests.harness import Bot

# The clock starts Friday 2026-11-27 10:00 Shanghai.


def test_percentages_with_conditions(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/60/10 签约后10天/发货前/验收后30天")
    reply = bot.last_text("rep_e1")
    assert "已登记合同" in reply and "第一期 30% ¥150,000｜2026-12-07到期" in reply
    assert "第二期 60% ¥300,000｜发货时" in reply and "第三期 10% ¥50,000｜验收后30天" in reply
    rows = instalments(bot, contract_id(bot))
    assert [(r.amount, r.event, r.offset_days, r.due_on) for r in rows] == [
        (Decimal(150000), "签约", 10, date(2026, 12, 7)),
        (Decimal(300000), "发货", 0, None),
        (Decimal(50000), "验收", 30, None),
    ]


def test_amounts_with_a_date(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 20万/25万/5万 2026-12-31/发货后15天/验收后30天")
    rows = instalments(bot, contract_id(bot))
    assert [(r.amount, r.percent, r.due_on) for r in rows] == [
        (Decimal(200000), None, date(2026, 12, 31)),
        (Decimal(250000), None, None),
        (Decimal(50000), None, None),
    ]


def test_default_plan_from_config(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    assert "回款计划（默认计划）" in bot.last_text("rep_e1")
    rows = instalments(bot, contract_id(bot))
    assert [(r.percent, r.event, r.offset_days) for r in rows] == [
        (30, "签约", 0),
        (60, "发货", 0),
        (10, "验收", 30),
    ]
    assert rows[0].due_on == date(2026, 11, 27)  # 30% on signing: due the day it was signed


def test_plan_without_conditions_uses_the_default_rules_when_it_has_as_many_parts(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 40/50/10")
    assert [r.amount for r in instalments(bot, contract_id(bot))] == [
        Decimal(200000),
        Decimal(250000),
        Decimal(50000),
    ]


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ("分期 30/60/20 签约时/发货时/验收后30天", "加起来是 110%"),
        ("分期 20万/20万 签约时/验收时", "与合同金额 ¥500,000 不符"),
        ("分期 50/50", "请为每期写上回款条件"),
        ("分期 30/60/10 签约后10天/发货前", "要一一对应"),
        ("分期 30/60/10 签约后10天/下雨天/验收后30天", "看不懂回款条件「下雨天」"),
        ("分期", "后面请写比例或金额"),
    ],
)
def test_bad_plans_change_nothing(bot: Bot, plan: str, problem: str) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", f"合同 贴片线 50万 {plan}")
    reply = bot.last_text("rep_e1")
    assert problem in reply and "用法：合同" in reply and "例：" in reply, reply
    with bot.session() as s:
        assert s.scalars(select(Payment)).first() is None
    from models import Contract

    with bot.session() as s:
        assert s.scalars(select(Contract)).first() is None


def test_plan_set_afterwards_and_shown_on_contract_and_in_360(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"回款计划 #{cid} 50/50 签约后5天/验收后30天")
    assert "回款计划已更新" in bot.last_text("rep_e1")
    assert [r.amount for r in instalments(bot, cid)] == [Decimal(250000), Decimal(250000)]
    bot.send_text("rep_e1", f"合同 #{cid}")
    shown = bot.last_text("rep_e1")
    assert "回款计划：" in shown and "第一期 50% ¥250,000｜2026-12-02到期｜待回款" in shown
    bot.send_text("rep_e1", "客户 华瑞电子")
    view = bot.last_text("rep_e1")
    assert f"合同 #{cid} ¥500,000" in view and "第二期 50% ¥250,000｜验收后30天｜待验收" in view
    bot.send_text("rep_s1", f"回款计划 #{cid} 50/50 签约时/验收时")  # another region: not found, unchanged
    assert "没有找到合同" in bot.last_text("rep_s1")
    assert [r.offset_days for r in instalments(bot, cid)] == [5, 30]


def test_milestones_fix_relative_due_dates_and_plan_follow_ups(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/60/10 签约时/发货后15天/验收后30天")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"交付 #{cid} 发货 12月10日")  # in the future: a planned day
    assert "计划 2026-12-10 发货" in bot.last_text("rep_e1")
    assert instalments(bot, cid)[1].due_on is None
    with bot.session() as s:
        follow_up = s.scalars(select(Reminder).where(Reminder.source == "milestone")).one()
        assert follow_up.owner_userid == "rep_e1" and follow_up.status == "open"
        assert follow_up.due_at.astimezone(bot.clock.local().tzinfo).date() == date(2026, 12, 11)
    bot.send_text("rep_e1", f"合同 #{cid}")
    assert "发货后15天（预计 12-25）" in bot.last_text("rep_e1")
    bot.clock.set(bot.clock.local().replace(day=30))
    bot.send_text("rep_e1", f"交付 #{cid} 发货")  # reached today
    assert "第二期 ¥300,000 到期日定为 2026-12-15" in bot.last_text("rep_e1")
    bot.send_text("sup_east", f"交付 #{cid} 验收 11月30日")  # the supervisor may record it too
    rows = instalments(bot, cid)
    assert [r.due_on for r in rows] == [date(2026, 11, 27), date(2026, 12, 15), date(2026, 12, 30)]
    with bot.session() as s:
        assert s.scalars(select(Reminder).where(Reminder.source == "milestone")).one().status == "cancelled"
        assert {m.kind: m.reached_on for m in s.scalars(select(Milestone))} == {
            "发货": date(2026, 11, 30),
            "验收": date(2026, 11, 30),
        }
    bot.send_text("rep_e2", f"交付 #{cid} 安装")  # a colleague: not theirs, answered like a missing contract
    assert "没有找到合同" in bot.last_text("rep_e2")
    bot.send_text("rep_e1", f"交付 #{cid} 到货")
    assert "用法：交付" in bot.last_text("rep_e1")


def test_partial_payments_across_instalments(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/60/10 签约时/发货时/验收后30天")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"回款 #{cid} 10万")
    assert "记入第一期¥100,000。" in bot.last_text("rep_e1") and "尚未收 ¥400,000" in bot.last_text("rep_e1")
    bot.send_text("fin", f"回款 #{cid} 25万")  # finance may record it; 5万 closes 第一期, 20万 goes to 第二期
    reply = bot.last_text("fin")
    assert "第一期¥50,000（已结清）、第二期¥200,000" in reply, reply
    bot.send_text("rep_e1", f"合同 #{cid}")
    shown = bot.last_text("rep_e1")
    assert "第一期 30% ¥150,000｜2026-11-27到期｜已回款" in shown
    assert "第二期 60% ¥300,000｜发货时｜部分回款，待发货，已收 ¥200,000" in shown
    bot.send_text("rep_e1", f"回款 #{cid} 20万")  # more than is still owed (15万)
    assert "回款超过合同" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "回款 华瑞电子 15万")  # by customer: its one open contract
    assert "第二期¥100,000（已结清）、第三期¥50,000（已结清）" in bot.last_text("rep_e1")


def test_payment_by_customer_asks_when_several_contracts_owe(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    ready_opportunity(bot, customer="华瑞电子", name="二期贴片线")
    bot.send_text("rep_e1", "合同 二期贴片线 50万")
    bot.send_text("rep_e1", "回款 华瑞电子 5万")
    ask = bot.last_text("rep_e1")
    assert "2 份未收完的合同" in ask and f"回款 #{contract_id(bot)} 5" in ask, (
        ask
    )  # the contracts service asks
    with bot.session() as s:
        assert s.scalars(select(Payment)).first() is None
    bot.send_text("rep_e1", f"回款 #{contract_id(bot, '二期贴片线')} 5万")
    assert f"合同 #{contract_id(bot, '二期贴片线')}" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.scalars(select(Payment.contract_id)).one() == contract_id(bot, "二期贴片线")


def test_invoices_by_finance_only(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"开票 #{cid} 15万")
    assert "「开票」只有财务经理、管理员可以使用" in bot.last_text("rep_e1")
    bot.send_text("fin", f"开票 #{cid} 15万 04512345")
    assert "已登记合同" in bot.last_text("fin") and "尚未开票 ¥350,000" in bot.last_text("fin")
    bot.send_text("fin", f"开票 #{cid} 1万 04512345")
    assert "已登记过" in bot.last_text("fin")
    bot.send_text("fin", f"开票 #{cid} 40万")
    assert "开票超过" in bot.last_text("fin")
    bot.send_text("fin", f"开票 #{cid} 很多")
    assert "用法：开票" in bot.last_text("fin")
    with bot.session() as s:
        assert [i.amount for i in s.scalars(select(Invoice))] == [Decimal(150000)]


def test_promise_command(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"承诺 #{cid} 12月5日")
    assert "客户承诺 2026-12-05 支付合同" in bot.last_text("rep_e1")
    assert instalments(bot, cid)[0].promised_on == date(2026, 12, 5)
    bot.send_text("rep_e1", f"承诺 #{cid} 2026-11-01")
    assert "已经过去了" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", f"承诺 #{cid} 改天")
    assert "用法：承诺" in bot.last_text("rep_e1")
