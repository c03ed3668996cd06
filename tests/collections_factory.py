"""A signed-ready opportunity for the collections tests: customer, opportunity at 报价审批, approved quote."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models import Contract, Instalment, Opportunity, Quote, QuoteStatus, Visit
from tests.harness import Bot


def ready_opportunity(
    bot: Bot,
    *,
    customer: str = "华瑞电子",
    name: str = "贴片线",
    owner: str = "rep_e1",
    phone: str = "13812345678",
) -> int:
    bot.send_text(owner, f"新客户 {customer} 行业=电子 联系人=王经理 电话={phone}")
    bot.send_text(owner, f"商机 {customer} {name} 50万")
    with bot.session() as s, s.begin():
        o = s.scalars(select(Opportunity).where(Opportunity.name == name)).one()
        s.add(Visit(customer_id=o.customer_id, userid=owner, summary="x", visited_at=bot.clock()))
        o.stage = "报价审批"
        s.add(
            Quote(
                opportunity_id=o.id,
                amount=Decimal(1000000),
                requester_userid=owner,
                status=QuoteStatus.APPROVED,
                created_at=bot.clock(),
            )
        )
        return o.id


def contract_id(bot: Bot, name: str = "贴片线") -> int:
    with bot.session() as s:
        return s.scalars(
            select(Contract.id)
            .join(Opportunity, Opportunity.id == Contract.opportunity_id)
            .where(Opportunity.name == name)
        ).one()


def instalments(bot: Bot, cid: int) -> list[Instalment]:
    with bot.session() as s:
        rows = list(
            s.scalars(select(Instalment).where(Instalment.contract_id == cid).order_by(Instalment.seq))
        )
        for r in rows:
            s.expunge(r)
        return rows
