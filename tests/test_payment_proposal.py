"""Free-form 回款: 「华瑞贴片线的首付款到了，15万」 is proposed against the right contract and instalment, and
written through the instalment-aware 回款 only on 确认 (the engine's result is given by the test)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from cards.keys import PROPOSAL_CONFIRM as CONFIRM
from models import Opportunity, Payment
from tests.collections_factory import contract_id, ready_opportunity
from tests.harness import Bot
from tests.test_conversation import Said, card_text, last_card, tap, teach

SENTENCE = "华瑞贴片线的首付款到了，15万"


def _ids(bot: Bot) -> tuple[int, int]:
    with bot.session() as s:
        o = s.scalars(select(Opportunity).where(Opportunity.name == "贴片线")).one()
        return o.customer_id, o.id


def test_first_payment_sentence_is_proposed_on_the_first_instalment(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")  # default plan: 30% on signing
    customer, opp = _ids(bot)
    teach(
        bot,
        {
            SENTENCE: lambda: Said(
                "payment", customer_ids=(customer,), opportunity_ids=(opp,), amount=Decimal(150000)
            )
        },
    )
    bot.send_text("rep_e1", SENTENCE)
    card = last_card(bot, "rep_e1")
    shown = card_text(card)
    assert "登记回款" in shown and f"合同:#{contract_id(bot)} 贴片线" in shown
    assert "记入:第一期（应收 ¥150,000，未收 ¥150,000）" in shown
    with bot.session() as s:
        assert s.scalars(select(Payment)).first() is None  # nothing before 确认
    tap(bot, "rep_e1", card, CONFIRM)
    with bot.session() as s:
        paid = s.scalars(select(Payment)).one()
        assert (paid.contract_id, paid.amount) == (contract_id(bot), Decimal(150000))
    bot.send_text("rep_e1", f"合同 #{contract_id(bot)}")
    assert "第一期 30% ¥150,000｜2026-11-27到期｜已回款" in bot.last_text("rep_e1")


def test_naming_a_later_instalment_warns_where_it_lands(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    customer, opp = _ids(bot)
    sentence = "华瑞贴片线的尾款到了，5万"
    teach(
        bot, {sentence: lambda: Said("payment", customer_ids=(customer,), amount=Decimal(50000))}
    )  # customer only
    bot.send_text("rep_e1", sentence)
    shown = card_text(last_card(bot, "rep_e1"))
    assert "记入:第一期" in shown and "第一期还未收齐（未收 ¥150,000），这笔会先记入第一期。" in shown


def test_the_sentence_with_the_real_engine(bot: Bot) -> None:
    """No engine given: services/understanding reads the sentence (华瑞 → 华瑞电子, 贴片线 → its opportunity)."""
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万")
    bot.send_text("rep_e1", SENTENCE)
    card = last_card(bot, "rep_e1")
    shown = card_text(card)
    assert "登记回款" in shown and f"合同:#{contract_id(bot)} 贴片线" in shown and "记入:第一期" in shown
    tap(bot, "rep_e1", card, CONFIRM)
    with bot.session() as s:
        assert s.scalars(select(Payment.amount)).one() == Decimal(150000)


def test_first_payment_words_name_no_instalment_when_the_contract_has_no_plan() -> None:
    """Regression: 首付款 named an instalment a contract with no plan does not have (IndexError, then a 500 answer).

    End to end the corpus sentence covers it (tests/test_conversation_corpus.py: 华瑞贴片线的首付款到了，15万)."""
    from services.receipts import instalment_hint

    assert instalment_hint("首付款到了", 0) is None and instalment_hint("首付款到了", 3) == 1
