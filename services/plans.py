"""Payment plans: a contract split into instalments, each due on a date or relative to an event.

Allocation rule (one place, used by the chat, the ladder, the digest and the exports): a contract's
payments and invoices are applied to its instalments in plan order, oldest first. So `回款` always lands on
the oldest open instalment, a payment larger than it spills into the next one, and an instalment is
"invoiced" once the invoices cover it. Due dates: a date rule is fixed; an event rule is known once the
event happened (签约 = the contract's signing day; 发货/安装/验收 = the milestone recorded with `交付`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Contract, Customer, Instalment, Invoice, Milestone, Opportunity, Payment, User
from services import audit
from services.config import BusinessConfig
from services.parsing import SHANGHAI, format_amount
from services.parsing.plans import DATE_EVENT, DueRule, PlanPart, parse_rule

ORDINALS = "一二三四五六七八九十"


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def default_rules(config: BusinessConfig) -> list[DueRule]:
    # The configured default plan has no dates (services/config.py refuses them): no local zone is involved.
    utc = ZoneInfo("UTC")
    epoch = datetime(2000, 1, 1, tzinfo=utc)
    return [parse_rule(part.due, now=epoch, tz=utc) for part in config.collections.default_plan]


def default_parts(config: BusinessConfig, *, total: Decimal) -> list[PlanPart]:
    """The configured default plan (e.g. 30% on signing, 60% on delivery, 10% 30 days after acceptance)."""
    parts = config.collections.default_plan
    amounts = [(total * p.percent / 100).quantize(Decimal("0.01")) for p in parts]
    amounts[-1] = total - sum(amounts[:-1])
    return [
        PlanPart(amount=a, percent=p.percent, rule=r)
        for a, p, r in zip(amounts, parts, default_rules(config), strict=True)
    ]


def instalments_of(session: Session, *, contract_id: int) -> list[Instalment]:
    return list(
        session.scalars(
            select(Instalment).where(Instalment.contract_id == contract_id).order_by(Instalment.seq)
        )
    )


def set_plan(
    session: Session, *, user: User, contract: Contract, parts: Sequence[PlanPart], now: datetime
) -> list[Instalment]:
    """Replace the contract's plan. Payments and invoices already recorded are re-applied in the new order."""
    session.execute(delete(Instalment).where(Instalment.contract_id == contract.id))
    rows = [
        Instalment(
            contract_id=contract.id,
            seq=i,
            amount=part.amount,
            percent=part.percent,
            event=part.rule.event,
            offset_days=part.rule.offset_days,
            fixed_on=part.rule.on,
            created_at=now,
        )
        for i, part in enumerate(parts, 1)
    ]
    session.add_all(rows)
    session.flush()
    refresh_due_dates(session, contract=contract)
    audit.record(
        session,
        actor=user.userid,
        entity="contract",
        entity_id=contract.id,
        action="plan",
        now=now,
        detail=" / ".join(f"{format_amount(p.amount)} {p.rule.text()}" for p in parts),
    )
    return rows


def event_days(session: Session, *, contract: Contract) -> dict[str, date]:
    """The day each event happened: 签约 always; 发货/安装/验收 once reached."""
    days = {"签约": local_day(contract.signed_at)}
    for kind, reached in session.execute(
        select(Milestone.kind, Milestone.reached_on).where(
            Milestone.contract_id == contract.id, Milestone.reached_on.is_not(None)
        )
    ):
        if reached is not None:
            days[kind] = reached
    return days


def refresh_due_dates(session: Session, *, contract: Contract) -> list[Instalment]:
    """Fix each instalment's due date from its rule and the events that have happened."""
    days = event_days(session, contract=contract)
    changed = []
    for inst in instalments_of(session, contract_id=contract.id):
        if inst.event == DATE_EVENT:
            due = inst.fixed_on
        else:
            happened = days.get(inst.event)
            due = happened + timedelta(days=inst.offset_days) if happened else None
        if due != inst.due_on:
            inst.due_on = due
            inst.promised_on = None  # a promise was about the old date
            changed.append(inst)
    session.flush()
    return changed


@dataclass
class InstalmentState:
    instalment: Instalment
    paid: Decimal
    invoiced: Decimal
    planned_on: date | None = None  # the event's planned day, while the due date is not fixed yet

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.instalment.amount) - self.paid

    @property
    def settled(self) -> bool:
        return self.remaining <= 0

    @property
    def needs_invoice(self) -> bool:
        return self.invoiced < Decimal(self.instalment.amount)

    @property
    def label(self) -> str:
        return instalment_label(self.instalment)

    def status(self, today: date) -> str:
        due = self.instalment.due_on
        if self.settled:
            return "已回款"
        part = "部分回款，" if self.paid > 0 else ""
        if due is None:
            return (
                f"{part}待{self.instalment.event}" if self.instalment.event != DATE_EVENT else f"{part}待回款"
            )
        promised = self.instalment.promised_on
        if promised is not None and promised >= today:
            return f"{part}客户承诺 {promised:%m-%d}"
        if due < today:
            return f"{part}逾期{(today - due).days}天"
        if due == today:
            return f"{part}今日到期"
        return f"{part}待回款"


def instalment_label(inst: Instalment) -> str:
    return f"第{ORDINALS[inst.seq - 1] if inst.seq <= len(ORDINALS) else inst.seq}期"


def allocate_amounts(amounts: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Apply `total` to `amounts` in order: what each part receives."""
    out = []
    left = Decimal(total)
    for amount in amounts:
        take = min(Decimal(amount), max(left, Decimal(0)))
        out.append(take)
        left -= take
    return out


def totals_by_contract(
    session: Session, contract_ids: Iterable[int]
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """(paid, invoiced) per contract, in two aggregate queries."""
    ids = list(set(contract_ids))
    if not ids:
        return {}, {}
    paid = dict(
        session.execute(
            select(Payment.contract_id, func.sum(Payment.amount))
            .where(Payment.contract_id.in_(ids))
            .group_by(Payment.contract_id)
        ).all()
    )
    invoiced = dict(
        session.execute(
            select(Invoice.contract_id, func.sum(Invoice.amount))
            .where(Invoice.contract_id.in_(ids))
            .group_by(Invoice.contract_id)
        ).all()
    )
    return {k: Decimal(v or 0) for k, v in paid.items() if k is not None}, {
        k: Decimal(v or 0) for k, v in invoiced.items()
    }


def states_from(
    instalments: Sequence[Instalment],
    *,
    paid: Decimal,
    invoiced: Decimal,
    planned: dict[str, date] | None = None,
) -> list[InstalmentState]:
    ordered = sorted(instalments, key=lambda i: i.seq)
    amounts = [Decimal(i.amount) for i in ordered]
    got = allocate_amounts(amounts, paid)
    billed = allocate_amounts(amounts, invoiced)
    planned = planned or {}
    return [
        InstalmentState(inst, p, b, planned.get(inst.event) if inst.due_on is None else None)
        for inst, p, b in zip(ordered, got, billed, strict=True)
    ]


def contract_states(session: Session, *, contract: Contract) -> list[InstalmentState]:
    paid, invoiced = totals_by_contract(session, [contract.id])
    planned = {
        kind: day
        for kind, day in session.execute(
            select(Milestone.kind, Milestone.planned_on).where(
                Milestone.contract_id == contract.id, Milestone.reached_on.is_(None)
            )
        )
        if day is not None
    }
    return states_from(
        instalments_of(session, contract_id=contract.id),
        paid=paid.get(contract.id, Decimal(0)),
        invoiced=invoiced.get(contract.id, Decimal(0)),
        planned=planned,
    )


def oldest_open(states: Sequence[InstalmentState]) -> InstalmentState | None:
    return next((s for s in states if not s.settled), None)


def rule_text(inst: Instalment) -> str:
    return DueRule(event=inst.event, offset_days=inst.offset_days, on=inst.fixed_on).text()


def plan_lines(states: Sequence[InstalmentState], *, today: date) -> list[str]:
    """One line per instalment, for the contract reply and 客户 360."""
    lines = []
    for s in states:
        inst = s.instalment
        share = f"{Decimal(inst.percent).normalize():f}% " if inst.percent is not None else ""
        if inst.due_on is not None:
            when = f"{inst.due_on:%Y-%m-%d}到期"
        elif s.planned_on is not None:
            when = f"{rule_text(inst)}（预计 {s.planned_on + timedelta(days=inst.offset_days):%m-%d}）"
        else:
            when = rule_text(inst)
        paid = f"，已收 {format_amount(s.paid)}" if 0 < s.paid < Decimal(inst.amount) else ""
        lines.append(
            f"  {s.label} {share}{format_amount(Decimal(inst.amount))}｜{when}｜{s.status(today)}{paid}"
        )
    return lines


def owner_of(session: Session, *, contract: Contract) -> str:
    """The person the collections ladder talks to and who records the contract's payments: the customer's
    current owner, so a reassigned (分配) customer's contracts follow it (nobody is chased about a contract
    outside their scope). A customer in the pool has no owner: then who signed."""
    owner = session.scalar(select(Customer.owner_userid).where(Customer.id == contract.customer_id))
    return owner or contract.signed_by


def customer_lines(session: Session, *, customer_id: int, today: date) -> list[str]:
    """客户 360: each contract with a plan and its instalments (settled contracts in one line)."""
    contracts = list(
        session.scalars(
            select(Contract)
            .where(Contract.customer_id == customer_id)
            .order_by(Contract.signed_at, Contract.id)
        )
    )
    if not contracts:
        return []
    lines = ["合同与回款计划："]
    for c in contracts:
        states = contract_states(session, contract=c)
        paid = sum((s.paid for s in states), Decimal(0))
        if not states:
            lines.append(
                f"• 合同 #{c.id} {format_amount(Decimal(c.amount))}（未设回款计划：回款计划 #{c.id} 30/60/10）"
            )
            continue
        if all(s.settled for s in states):
            lines.append(f"• 合同 #{c.id} {format_amount(Decimal(c.amount))}｜已全部回款")
            continue
        lines.append(f"• 合同 #{c.id} {format_amount(Decimal(c.amount))}｜已收 {format_amount(paid)}")
        lines += plan_lines(states, today=today)
    return lines


def sign_contract(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    opportunity: Opportunity,
    amount: Decimal,
    parts: Sequence[PlanPart] | None,
    now: datetime,
) -> tuple[Contract, list[InstalmentState]]:
    """合同: record the contract with its plan (the configured default when none is written) and queue the
    finance webhook's contract.created event, all in the caller's transaction."""
    from services import contracts as contract_service
    from services import webhook

    customer = contract_service.customer_of(session, opportunity=opportunity)
    contract = contract_service.record_contract(
        session, config=config, user=user, opportunity=opportunity, customer=customer, amount=amount, now=now
    )
    set_plan(
        session, user=user, contract=contract, parts=parts or default_parts(config, total=amount), now=now
    )
    webhook.contract_created(session, config=config, contract=contract, now=now)
    return contract, contract_states(session, contract=contract)
