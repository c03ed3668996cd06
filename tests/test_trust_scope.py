"""Issue 16 #5, #6, #11: who sees a customer, and where its region comes from."""

from __future__ import annotations

from sqlalchemy import select

from models import ApprovalStep, Customer, Quote
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot

APPROVE = "v1:quote.approve"


def _task(bot: Bot, quote_id: int, seq: int) -> str:
    with bot.session() as s:
        return str(
            s.scalar(
                select(ApprovalStep.task_id).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == seq)
            )
        )


def _quote_id(bot: Bot) -> int:
    with bot.session() as s:
        return int(s.scalars(select(Quote.id).order_by(Quote.id.desc())).first() or 0)


def test_case5_tech_lead_sees_a_customer_only_while_a_step_of_theirs_is_pending_or_acted_on(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "拜访 华东精密 谈了预算，联系人手机13812345678")
    bot.send_text("rep_e1", "报价 数控改造 80万 含安装")  # supervisor → 技术负责人 → 财务经理
    q = _quote_id(bot)
    bot.send_text("tech", "客户 华东精密")  # the tech step is only waiting
    assert bot.last_text("tech").startswith("没有找到客户")
    bot.tap("sup_east", _task(bot, q, 1), APPROVE)
    bot.send_text("tech", "客户 华东精密")
    view = bot.last_text("tech")
    assert view.startswith("【华东精密】") and f"报价 #{q} 数控改造 ¥800,000" in view and "待您审批" in view
    assert (
        "13812345678" not in view and "拜访" not in view and "联系人" not in view
    )  # only what the card shows
    bot.send_text("tech", "跟进 华东精密 明天上午10点 催款")  # reading is not acting
    assert "没有找到客户" in bot.last_text("tech")
    bot.tap("tech", _task(bot, q, 2), APPROVE)
    bot.send_text("tech", "客户 华东精密")
    assert "您已同意" in bot.last_text("tech")
    # the finance step was cancelled before it came to 周会计: never in scope
    bot.send_text("rep_e1", f"撤回 #{q}")
    bot.send_text("fin", "客户 华东精密")
    assert bot.last_text("fin").startswith("没有找到客户")


def test_case6_a_reps_typed_region_does_not_move_the_customer_out_of_their_supervisors_sight(
    bot: Bot,
) -> None:
    bot.send_text("rep_e1", "新客户 远大设备 联系人=王经理 电话=13812345678 地址=上海 区域=华南")
    assert "已创建客户「远大设备」" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.scalars(select(Customer.region)).one() == "华东"
    bot.send_text("sup_east", "客户 远大设备")
    assert bot.last_text("sup_east").startswith("【远大设备】")
    bot.send_text("sup_south", "分配 远大设备 赵强")
    assert "没有找到客户" in bot.last_text("sup_south")


def test_case11_after_assignment_the_previous_owner_is_out_of_the_loop_on_its_quotes(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 2万 含安装")
    q = _quote_id(bot)
    bot.send_text("sup_east", "分配 华东精密 李娜")
    assert "李娜" in bot.last_text("sup_east")
    bot.send_text("rep_e1", f"撤回 #{q}")
    with bot.session() as s:
        assert s.get(Quote, q).status == "pending"  # type: ignore[union-attr]
    bot.send_text("rep_e1", "待办")
    assert f"#{q}" not in bot.last_text("rep_e1")
    before = len(bot.texts("rep_e1"))
    bot.tap("sup_east", _task(bot, q, 1), APPROVE)
    assert len(bot.texts("rep_e1")) == before  # nothing about it reaches the previous owner
    assert any(f"报价 #{q}" in t and "审批通过" in t for t in bot.texts("rep_e2"))
