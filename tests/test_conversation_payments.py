"""Money received, said in a sentence, is a 回款: several open contracts are a numbered pick, and an amount
that matches exactly one open instalment names that contract at once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models import Opportunity, Payment, Quote
from tests.collections_factory import ready_opportunity
from tests.harness import Bot
from tests.test_conversation import CONFIRM, card_text, last_card, tap


def _two_contracts(bot: Bot) -> tuple[int, int]:
    """海川重工 with two signed contracts owing money: 一期 30万 (15万 + 15万), 二期 20万 (10万 + 10万)."""
    ready_opportunity(bot, customer="海川重工", name="一期产线")
    bot.send_text("rep_e1", "商机 海川重工 二期产线 20万")
    with bot.session() as s, s.begin():
        second = s.scalars(select(Opportunity).where(Opportunity.name == "二期产线")).one()
        second.stage = "报价审批"
        s.add(
            Quote(
                opportunity_id=second.id,
                amount=Decimal(200000),
                requester_userid="rep_e1",
                status="approved",
                created_at=bot.clock(),
            )
        )
    bot.send_text("rep_e1", "合同 一期产线 30万 分期 50/50 签约后10天/验收后30天")
    bot.send_text("rep_e1", "合同 二期产线 20万 分期 50/50 签约后10天/验收后30天")
    with bot.session() as s:
        from models import Contract

        ids = s.scalars(select(Contract.id).order_by(Contract.id)).all()
    assert len(ids) == 2, bot.texts("rep_e1")[-2:]
    return ids[0], ids[1]


def _paid(bot: Bot) -> list[tuple[int, Decimal]]:
    with bot.session() as s:
        return [(p.contract_id, Decimal(p.amount)) for p in s.scalars(select(Payment))]


def test_money_received_on_a_customer_with_several_contracts_is_a_numbered_pick(bot: Bot) -> None:
    first, second = _two_contracts(bot)
    for sentence in ("收到海川回款2万", "海川今天打过来2万", "海川上周转了2万过来"):
        bot.send_text("rep_e1", sentence)
        pick = bot.last_text("rep_e1")
        assert "找到2个合同" in pick and f"合同 #{first}" in pick and f"合同 #{second}" in pick, pick
    bot.send_text("rep_e1", "2")  # the second contract of the list
    card = last_card(bot, "rep_e1")
    assert "登记回款" in card_text(card) and f"#{second}" in card_text(card) and "¥20,000" in card_text(card)
    assert _paid(bot) == []
    tap(bot, "rep_e1", card, CONFIRM)
    assert _paid(bot) == [(second, Decimal(20000))]


def test_an_amount_matching_one_open_instalment_names_its_contract(bot: Bot) -> None:
    _, second = _two_contracts(bot)
    bot.send_text("rep_e1", "海川的款到了 10万")
    card = last_card(bot, "rep_e1")
    assert "登记回款" in card_text(card) and f"#{second}" in card_text(card), card_text(card)
    tap(bot, "rep_e1", card, CONFIRM)
    assert _paid(bot) == [(second, Decimal(100000))]
