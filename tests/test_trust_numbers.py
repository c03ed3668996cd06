"""A typed `#N` answers the same for a record that does not exist and one outside the sender's reach
(product.md «Data visibility»): 同意 / 驳回 / 撤回 #N, 回款 / 合同 #N, 改期 / 删除 / 完成 #N."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ApprovalStep, Quote, Reminder
from tests.approvals_factory import seed_opportunity
from tests.collections_factory import contract_id, ready_opportunity
from tests.harness import Bot

MISSING = 90_000


def _south_quote(bot: Bot) -> int:
    """A quote in 华南 (rep_s1's, waiting on sup_south): outside 华东's reach."""
    seed_opportunity(bot, owner="rep_s1", customer="东莞粤丰", name="注塑线", region="华南")
    bot.send_text("rep_s1", "报价 注塑线 3万")
    with bot.session() as s:
        return s.scalars(select(Quote.id)).one()


def _same_answer(bot: Bot, who: str, command: str, real: int, rest: str = "") -> str:
    bot.send_text(who, f"{command} #{real} {rest}".strip())
    shown = bot.last_text(who)
    bot.send_text(who, f"{command} #{MISSING} {rest}".strip())
    missing = bot.last_text(who)
    same = re.sub(rf"#{real}(?!\d)", "#N", shown) == re.sub(rf"#{MISSING}(?!\d)", "#N", missing)
    assert same, (shown, missing)
    assert "卡片" not in shown and "粤丰" not in shown and "注塑线" not in shown
    return shown


@pytest.mark.parametrize(("command", "rest"), [("同意", ""), ("驳回", "价格太低")])
def test_a_quote_of_another_region_answers_like_a_missing_one(bot: Bot, command: str, rest: str) -> None:
    quote = _south_quote(bot)
    for who in ("sup_east", "rep_e1", "tech"):
        answer = _same_answer(bot, who, command, quote, rest)
        assert answer.startswith(f"没有等您审批的报价 #{quote}")
    with bot.session() as s:
        assert s.get(Quote, quote).status == "pending"  # type: ignore[union-attr]


def test_a_quote_whose_step_is_someone_elses_answers_like_a_missing_one(bot: Bot) -> None:
    """华东's own quote, but its pending step is the 技术负责人's now: sup_east has nothing to act on."""
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 8万")
    with bot.session() as s:
        quote = s.scalars(select(Quote.id)).one()
    bot.send_text("sup_east", f"同意 #{quote}")
    _same_answer(bot, "sup_east", "同意", quote)
    bot.send_text("tech", f"同意 #{quote}")  # the step's approver still can
    with bot.session() as s:
        steps = s.scalars(
            select(ApprovalStep.status).where(ApprovalStep.quote_id == quote).order_by(ApprovalStep.seq)
        )
        assert list(steps)[:2] == ["approved", "approved"]


def test_withdrawing_someone_elses_quote_answers_like_a_missing_one(bot: Bot) -> None:
    quote = _south_quote(bot)
    answer = _same_answer(bot, "rep_e1", "撤回", quote)
    assert answer.startswith(f"没有找到您提交的报价 #{quote}")
    with bot.session() as s:
        assert s.get(Quote, quote).status == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize(("command", "rest"), [("回款", "1万"), ("合同", "")])
def test_a_contract_of_another_region_answers_like_a_missing_one(bot: Bot, command: str, rest: str) -> None:
    ready_opportunity(bot, customer="东莞粤丰", name="注塑线", owner="rep_s1", phone="13912345678")
    bot.send_text("rep_s1", "合同 注塑线 50万")
    contract = contract_id(bot, "注塑线")
    _same_answer(bot, "rep_e1", command, contract, rest)


@pytest.mark.parametrize(("command", "rest"), [("改期", "明天上午10点"), ("删除", ""), ("完成", "")])
def test_someone_elses_reminder_answers_like_a_missing_one(bot: Bot, command: str, rest: str) -> None:
    with bot.session() as s, s.begin():
        row = Reminder(
            owner_userid="rep_s1",
            title="回访粤丰",
            due_at=bot.clock() + timedelta(days=2),
            status="open",
            source="manual",
            notified_late=False,
            snooze_count=0,
            created_at=bot.clock(),
        )
        s.add(row)
        s.flush()
        rid = row.id
    _same_answer(bot, "rep_e1", command, rid, rest)
    with bot.session() as s:
        assert s.get(Reminder, rid).status == "open"  # type: ignore[union-attr]
