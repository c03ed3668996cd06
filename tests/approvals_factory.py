"""Customers, visits and opportunities made directly in the database for the approval tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from models import Customer, Opportunity, Visit

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def make_opportunity(
    session: Session,
    *,
    owner: str = "rep_e1",
    customer: str = "华东精密",
    name: str = "数控改造",
    region: str = "华东",
    stage: str = "方案制定",
    score: int = 75,
    priority: str = "A",
    visit: bool = True,
) -> Opportunity:
    cust = Customer(
        name=customer,
        name_norm=customer,
        region=region,
        owner_userid=owner,
        custom={},
        complete=True,
        created_at=T0,
        updated_at=T0,
    )
    session.add(cust)
    session.flush()
    if visit:
        session.add(Visit(customer_id=cust.id, userid=owner, summary="现场勘察", visited_at=T0))
    opp = Opportunity(
        customer_id=cust.id,
        name=name,
        amount=Decimal(80000),
        stage=stage,
        score=score,
        priority=priority,
        score_items=[],
        owner_userid=owner,
        created_at=T0,
        updated_at=T0,
    )
    session.add(opp)
    session.flush()
    return opp


def seed_opportunity(bot: object, **kw: object) -> int:
    with bot.session() as s, s.begin():  # type: ignore[attr-defined]
        return make_opportunity(s, **kw).id  # type: ignore[arg-type]
