"""Issue 16 #3 and the integrity findings around quotes and contracts."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models import ApprovalStep, Contract, Opportunity, Quote, StepStatus
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot

APPROVE = "v1:quote.approve"


def _quote(bot: Bot) -> Quote:
    with bot.session() as s:
        q = s.scalars(select(Quote).order_by(Quote.id.desc())).first()
        assert q is not None
        s.expunge(q)
        return q


def _approve_all(bot: Bot, quote_id: int) -> None:
    for _ in range(3):
        with bot.session() as s:
            step = s.scalar(
                select(ApprovalStep).where(
                    ApprovalStep.quote_id == quote_id, ApprovalStep.status == StepStatus.PENDING
                )
            )
            if step is None:
                return
            who, task = step.approver_userid, step.task_id
        bot.tap(who, str(task), APPROVE)


def _opp(bot: Bot) -> Opportunity:
    with bot.session() as s:
        o = s.scalars(select(Opportunity)).one()
        s.expunge(o)
        return o


def _contracts(bot: Bot) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(Contract)) or 0


def test_case3_a_small_approved_quote_does_not_unlock_a_large_contract(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 1元")
    q = _quote(bot)
    assert q.step_count == 1  # the supervisor alone
    _approve_all(bot, q.id)
    assert _quote(bot).status == "approved"
    bot.send_text("rep_e1", "合同 数控改造 500万")
    reply = bot.last_text("rep_e1")
    assert "超过已审批报价" in reply and "报价 数控改造 5000000" in reply
    assert _contracts(bot) == 0
    # the new quote at the contract's amount runs the whole chain, then the contract is accepted
    bot.send_text("rep_e1", "报价 数控改造 500万 正式报价")
    big = _quote(bot)
    assert big.step_count == 3
    _approve_all(bot, big.id)
    bot.send_text("rep_e1", "合同 数控改造 500万")
    assert "已登记合同" in bot.last_text("rep_e1") and _contracts(bot) == 1


def test_case3_tolerance_is_configurable(bot: Bot) -> None:
    config = bot.state.config
    bot.state.dispatcher.config = config.model_copy(
        update={"approval": config.approval.model_copy(update={"contract_tolerance_percent": Decimal(5)})}
    )
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 1万")
    _approve_all(bot, _quote(bot).id)
    bot.send_text("rep_e1", "合同 数控改造 10600")
    assert "超过已审批报价" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "合同 数控改造 10500")
    assert "已登记合同" in bot.last_text("rep_e1")


def test_opportunity_amount_follows_its_approved_quote_and_its_contract(bot: Bot) -> None:
    seed_opportunity(bot)  # estimated at ¥80,000
    bot.send_text("rep_e1", "报价 数控改造 7万")
    assert _opp(bot).amount == Decimal(80000)  # a request alone changes nothing
    _approve_all(bot, _quote(bot).id)
    assert _opp(bot).amount == Decimal(70000)
    bot.send_text("rep_e1", "合同 数控改造 68000")
    assert _opp(bot).amount == Decimal(68000)


def test_contract_on_an_opportunity_that_has_one_says_so(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 7万")
    _approve_all(bot, _quote(bot).id)
    bot.send_text("rep_e1", "合同 数控改造 7万")
    with bot.session() as s:
        contract_id = s.scalars(select(Contract.id)).one()
    bot.send_text("rep_e1", "合同 数控改造 7万")
    reply = bot.last_text("rep_e1")
    assert (
        f"已经有合同 #{contract_id}" in reply and "没有重复登记" in reply and not reply.startswith("已登记")
    )
    assert _contracts(bot) == 1


def test_a_phone_of_another_customer_is_pointed_out_with_a_way_on(bot: Bot) -> None:
    from models import Customer

    bot.send_text("rep_e1", "新客户 宁波星辰电气 联系人=王经理 电话=13812345678 地址=宁波")
    bot.send_text("rep_e1", "新客户 杭州远大设备 联系人=李工 电话=13812345678 地址=杭州")
    card = bot.cards("rep_e1")[-1]
    assert (
        "电话已登记在「宁波星辰电气」" in card["sub_title_text"]
        and "确认是另一家客户" in card["sub_title_text"]
    )
    assert [b["text"] for b in card["button_list"]] == ["仍然新建", "取消"]
    bot.tap("rep_e2", card["task_id"], card["button_list"][0]["key"])  # not theirs: nothing
    bot.tap("rep_e1", card["task_id"], card["button_list"][0]["key"])
    with bot.session() as s:
        assert sorted(s.scalars(select(Customer.name))) == ["宁波星辰电气", "杭州远大设备"]
    bot.tap("rep_e1", card["task_id"], card["button_list"][0]["key"])  # a second tap: used once
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 2
    # the same name is still a duplicate, with nothing to confirm
    bot.send_text("rep_e1", "新客户 宁波星辰电气 联系人=王经理 电话=13900000000 地址=宁波")
    assert "已有客户「宁波星辰电气」" in bot.last_text("rep_e1")


def test_withdraw_returns_the_opportunity_to_the_stage_it_was_at_when_the_quote_was_requested(
    bot: Bot,
) -> None:
    seed_opportunity(bot)
    with bot.session() as s, s.begin():
        s.scalars(select(Opportunity)).one().stage = "线索分配"
    bot.send_text("rep_e1", "报价 数控改造 7万")
    assert _opp(bot).stage == "报价审批"
    bot.send_text("rep_e1", "撤回 数控改造")
    assert "已撤回" in bot.last_text("rep_e1")
    assert _opp(bot).stage == "线索分配"
    # rejection too
    bot.send_text("rep_e1", "报价 数控改造 7万")
    q = _quote(bot)
    with bot.session() as s:
        task = s.scalar(select(ApprovalStep.task_id).where(ApprovalStep.quote_id == q.id))
    bot.tap("sup_east", str(task), "v1:quote.reject")
    bot.send_text("sup_east", "价格太低")
    assert _opp(bot).stage == "线索分配"


def test_an_exact_name_is_preferred_only_when_no_other_name_contains_it(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "商机 华东精密 备件 1万")
    bot.send_text("rep_e1", "商机 华东精密 备件年度框架 2万")
    bot.send_text("rep_e1", "商机 华东精密 备件年度框架二期 3万")
    with bot.session() as s:
        before = s.scalar(select(func.count()).select_from(Quote))
    bot.send_text("rep_e1", "推进 备件")
    reply = bot.last_text("rep_e1")
    assert "找到" in reply and "1. #" in reply and "备件（" in reply.splitlines()[1], reply
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Quote)) == before
    bot.send_text("rep_e1", "推进 数控改造")  # a name nothing else contains is taken at once
    assert "找到" not in bot.last_text("rep_e1")


def test_a_payment_by_customer_name_asks_which_contract_and_outstanding_is_per_contract(bot: Bot) -> None:
    from models import Payment

    seed_opportunity(bot)
    with bot.session() as s, s.begin():
        opp = s.scalars(select(Opportunity)).one()
        s.add(
            Contract(
                opportunity_id=opp.id,
                customer_id=opp.customer_id,
                amount=Decimal(166000),
                signed_at=bot.clock(),
                signed_by="rep_e1",
            )
        )
        s.add(
            Contract(
                opportunity_id=None,
                customer_id=opp.customer_id,
                amount=Decimal(36000),
                signed_at=bot.clock(),
                signed_by="rep_e1",
            )
        )
    bot.send_text("rep_e1", "回款 华东精密 3万")
    reply = bot.last_text("rep_e1")
    assert "2 份未收完的合同" in reply and "请指定合同编号" in reply and "例：回款 #" in reply
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        first, second = s.scalars(select(Contract.id).order_by(Contract.id)).all()
    bot.send_text("rep_e1", f"回款 #{second} 36000")  # settles the small one
    bot.send_text("rep_e1", "回款 华东精密 3万")  # one contract left: taken, outstanding of that contract
    reply = bot.last_text("rep_e1")
    assert "尚未收 ¥136,000" in reply, reply
    with bot.session() as s:
        assert s.scalars(select(Payment.contract_id).order_by(Payment.id)).all() == [second, first]
