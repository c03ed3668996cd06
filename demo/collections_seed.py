"""The demo company's payment plans, milestones and invoices, in every state: settled, partly paid, waiting
on delivery or acceptance (with a planned day), due in a few working days, due today, overdue in every age
bucket, promised. The demo rep gets one of each worth showing: a due-day card when `collections` runs today,
an instalment due next week, a promised one and an overdue one."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from models import Contract, Customer, Instalment, Invoice, Milestone, Payment, User
from services import plans
from services.config import BusinessConfig
from services.parsing import SHANGHAI
from services.parsing.plans import DATE_EVENT


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def _plan(
    session: Session, contract: Contract, parts: list[tuple[Decimal, str, int, date | None]], now: datetime
) -> list[Instalment]:
    """parts: (share of the amount, event, offset_days, fixed date)."""
    total = Decimal(contract.amount)
    amounts = [(total * share).quantize(Decimal("0.01")) for share, _, _, _ in parts]
    amounts[-1] = total - sum(amounts[:-1], Decimal(0))
    rows = [
        Instalment(
            contract_id=contract.id,
            seq=i,
            amount=amount,
            percent=(share * 100).quantize(Decimal(1)),
            event=event,
            offset_days=offset,
            fixed_on=on,
            created_at=now,
        )
        for i, (amount, (share, event, offset, on)) in enumerate(zip(amounts, parts, strict=True), 1)
    ]
    session.add_all(rows)
    return rows


def seed_collections(
    session: Session,
    *,
    config: BusinessConfig,
    now: datetime,
    rng: random.Random,
    contracts: list[Contract],
    demo_rep: User,
    demo_customers: list[Customer],
) -> int:
    today = now.astimezone(SHANGHAI).date()
    default = [
        (p.percent / 100, r.event, r.offset_days, r.on)
        for p, r in zip(config.collections.default_plan, plans.default_rules(config), strict=True)
    ]
    recent = [c for c in contracts if c.signed_at >= now - timedelta(days=240)]
    for contract in recent:
        _plan(session, contract, default, now)
        signed = plans.local_day(contract.signed_at)
        shipped = signed + timedelta(days=rng.randint(7, 45))
        if shipped <= today and rng.random() < 0.8:
            session.add(
                Milestone(
                    contract_id=contract.id,
                    kind="发货",
                    reached_on=shipped,
                    recorded_by=contract.signed_by,
                    updated_at=now,
                )
            )
            accepted = shipped + timedelta(days=rng.randint(5, 40))
            if accepted <= today and rng.random() < 0.7:
                session.add(
                    Milestone(
                        contract_id=contract.id,
                        kind="验收",
                        reached_on=accepted,
                        recorded_by=contract.signed_by,
                        updated_at=now,
                    )
                )
        elif shipped > today:
            session.add(
                Milestone(
                    contract_id=contract.id,
                    kind="发货",
                    planned_on=shipped,
                    recorded_by=contract.signed_by,
                    updated_at=now,
                )
            )
    session.flush()
    for contract in recent:
        plans.refresh_due_dates(session, contract=contract)
        if rng.random() < 0.6:  # finance invoiced the first instalment
            session.add(
                Invoice(
                    contract_id=contract.id,
                    amount=(Decimal(contract.amount) * Decimal("0.3")).quantize(Decimal("0.01")),
                    number=f"0451{contract.id:04d}",
                    invoiced_at=contract.signed_at + timedelta(days=2),
                    recorded_by="fin_zhou",
                )
            )

    # The demo rep's own, one per state worth showing in the simulator.
    showcase = [
        (
            "due today",
            Decimal(260000),
            20,
            [(Decimal("0.3"), DATE_EVENT, 0, today), (Decimal("0.7"), "验收", 30, None)],
            Decimal(0),
        ),
        (
            "due next week",
            Decimal(180000),
            10,
            [(Decimal("0.5"), DATE_EVENT, 0, today + timedelta(days=6)), (Decimal("0.5"), "发货", 0, None)],
            Decimal(0),
        ),
        (
            "promised",
            Decimal(120000),
            40,
            [(Decimal("0.4"), DATE_EVENT, 0, today - timedelta(days=12)), (Decimal("0.6"), "验收", 15, None)],
            Decimal(20000),
        ),
        (
            "overdue",
            Decimal(95000),
            75,
            [(Decimal("0.3"), "签约", 0, None), (Decimal("0.7"), DATE_EVENT, 0, today - timedelta(days=38))],
            Decimal(20000),
        ),
    ]
    made = 0
    for i, (label, amount, days_ago, parts, paid) in enumerate(showcase):
        customer = demo_customers[i % len(demo_customers)]
        signed = _at(today - timedelta(days=days_ago))
        contract = Contract(
            opportunity_id=None,
            customer_id=customer.id,
            amount=amount,
            signed_at=signed,
            signed_by=demo_rep.userid,
        )
        session.add(contract)
        session.flush()
        rows = _plan(session, contract, parts, now)
        session.flush()
        plans.refresh_due_dates(session, contract=contract)
        if paid:
            session.add(
                Payment(
                    contract_id=contract.id,
                    customer_id=customer.id,
                    amount=paid,
                    received_at=signed + timedelta(days=3),
                    recorded_by=demo_rep.userid,
                )
            )
        if label == "promised":
            rows[0].promised_on = today + timedelta(days=5)
        if label == "due next week":
            session.add(
                Invoice(
                    contract_id=contract.id,
                    amount=rows[0].amount,
                    number=f"0452{contract.id:04d}",
                    invoiced_at=now - timedelta(days=1),
                    recorded_by="fin_zhou",
                )
            )
        made += 1
    session.flush()
    return len(recent) + made
