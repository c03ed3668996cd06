"""An open dialog that waits for free text does not swallow the sender's next exact command (chat/handle.py)."""

from __future__ import annotations

from sqlalchemy import select

from models import ApprovalStep, Quote, Reminder
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot
from tests.test_conversation import EDIT, add_customer, card_text, count, last_card, tap

REJECT_KEY = "v1:quote.reject"


def _two_quotes(bot: Bot) -> tuple[int, int, str]:
    """Two quotes of rep_e1 waiting on sup_east; the task id of the first one's card."""
    seed_opportunity(bot, customer="华东精密", name="数控改造")
    seed_opportunity(bot, customer="海川重工", name="二期产线")
    bot.send_text("rep_e1", "报价 数控改造 3万")
    bot.send_text("rep_e1", "报价 二期产线 4万")
    with bot.session() as s:
        first, second = s.scalars(select(Quote).order_by(Quote.id)).all()
        task = s.scalars(select(ApprovalStep.task_id).where(ApprovalStep.quote_id == first.id)).one()
        return first.id, second.id, str(task)


def _status(bot: Bot, quote_id: int) -> str:
    with bot.session() as s:
        quote = s.get(Quote, quote_id)
        assert quote is not None
        return quote.status


def test_an_exact_command_leaves_the_reject_reason_dialog_and_runs(bot: Bot) -> None:
    first, second, task = _two_quotes(bot)
    bot.tap("sup_east", task, REJECT_KEY)
    assert f"驳回报价 #{first}" in bot.last_text("sup_east")
    bot.send_text("sup_east", f"同意 #{second}")
    texts = bot.texts("sup_east")
    assert f"已退出刚才的驳回（报价 #{first}），未做更改。" in texts
    assert _status(bot, first) == "pending"  # not rejected with the reason "同意 #…"
    assert _status(bot, second) == "approved"


def test_a_reason_that_only_contains_or_starts_like_a_command_is_still_the_reason(bot: Bot) -> None:
    first, _, task = _two_quotes(bot)
    bot.tap("sup_east", task, REJECT_KEY)
    bot.send_text("sup_east", "报价，低于成本线，先拜访客户再说")
    with bot.session() as s:
        quote = s.get(Quote, first)
        assert quote is not None and quote.status == "rejected"
        assert quote.reject_reason == "报价，低于成本线，先拜访客户再说"


def test_a_command_the_sender_may_not_use_is_the_reason(bot: Bot) -> None:
    """技术负责人 may not request quotes: `报价 太高了` from them is their reason, not a new command."""
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 8万")  # 销售主管 → 技术负责人 → 财务经理
    with bot.session() as s:
        quote_id = s.scalars(select(Quote.id)).one()
    bot.send_text("sup_east", f"同意 #{quote_id}")
    with bot.session() as s:
        task = s.scalars(
            select(ApprovalStep.task_id).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == 2)
        ).one()
    bot.tap("tech", str(task), REJECT_KEY)
    bot.send_text("tech", "报价 太高了")
    with bot.session() as s:
        quote = s.get(Quote, quote_id)
        assert quote is not None and quote.status == "rejected" and quote.reject_reason == "报价 太高了"


def test_a_bare_command_word_leaves_with_the_dialogs_name(bot: Bot) -> None:
    first, _, task = _two_quotes(bot)
    bot.tap("sup_east", task, REJECT_KEY)
    bot.send_text("sup_east", "待办")
    texts = bot.texts("sup_east")
    assert f"已退出刚才的驳回（报价 #{first}），未做更改。" in texts
    assert not any("刚才的操作" in t for t in texts)
    assert _status(bot, first) == "pending"


def test_retyping_a_followup_command_leaves_the_past_date_question(bot: Bot) -> None:
    add_customer(bot, "海川重工")
    bot.send_text("rep_e1", "跟进 海川 11月20日 回访")  # a past date (the clock is 2026-11-27)
    assert "是指明年" in card_text(last_card(bot, "rep_e1"))
    bot.send_text("rep_e1", "跟进 海川 3天后 回访")
    texts = bot.texts("rep_e1")
    assert "已退出刚才的设置跟进，未做更改。" in texts
    assert texts[-1].startswith("已设置跟进 #") and "看不懂" not in texts[-1]
    assert count(bot, Reminder) == 1


def test_a_time_still_answers_the_past_date_question(bot: Bot) -> None:
    add_customer(bot, "海川重工")
    bot.send_text("rep_e1", "跟进 海川 11月20日 回访")
    bot.send_text("rep_e1", "改日期")
    bot.send_text("rep_e1", "下周一上午10点")
    assert bot.last_text("rep_e1").startswith("已设置跟进 #")


def test_the_edit_dialog_still_takes_a_command_like_answer(bot: Bot) -> None:
    add_customer(bot, "嘉兴永盛化工有限公司")
    add_customer(bot, "南通宏达纺织有限公司")
    bot.send_text("rep_e1", "提醒我下周一给永盛打电话")
    tap(bot, "rep_e1", last_card(bot, "rep_e1"), EDIT)
    bot.send_text("rep_e1", "客户 宏达")  # the part to change, not a customer lookup
    again = card_text(last_card(bot, "rep_e1"))
    assert "南通宏达纺织有限公司" in again and "11月30日" in again
    assert not any(t.startswith("已退出") for t in bot.texts("rep_e1"))
