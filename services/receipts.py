"""Recording what a customer paid against the payment plan — the one write path for 回款.

`receive` is used by the `回款` command, the due-day card's 已回款 button, the free-form proposal
(「华瑞贴片线的首付款到了，15万」 → `回款 #合同 15万` after 确认) and the ERP import. The payment lands on the
oldest open instalment of the contract and spills over (services/plans.py); that stops the ladder for
what it covers. `payment_target` answers "which contract and instalment would this payment go to" for a
name (an opportunity or a customer) and an optional instalment word (首付款, 尾款, 第二期, 发货款 ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import collections as cards
from chat.errors import DomainError, NotFound
from models import Contract, Customer, Instalment, Opportunity, Payment, User
from services import audit, plans, webhook
from services import contracts as contract_service
from services.config import BusinessConfig
from services.lookup import Ambiguous, find_customers, find_opportunities
from services.parsing import format_amount
from services.scope import Scope


@dataclass
class Receipt:
    payment: Payment
    contract: Contract
    customer: Customer
    applied: list[tuple[str, Decimal, bool]] = field(default_factory=list)  # (label, amount, now settled)
    outstanding_after: Decimal = Decimal(0)

    def text(self) -> str:
        where = "、".join(
            f"{label}{format_amount(amount)}{'（已结清）' if done else ''}"
            for label, amount, done in self.applied
        )
        applied = f"，记入{where}" if where else ""
        return (
            f"已登记回款 {format_amount(Decimal(self.payment.amount))}：{self.customer.name}（合同 #{self.contract.id}）{applied}。"
            f"合同尚未收 {format_amount(self.outstanding_after)}。"
        )


def receive(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    contract: Contract,
    amount: Decimal,
    now: datetime,
    received_at: datetime | None = None,
    voucher_no: str | None = None,
    source: str = "chat",
) -> Receipt:
    """Record a payment on `contract` (never more than it still owes) and say which instalments it covers."""
    if amount <= 0:
        raise DomainError("回款金额要大于 0。")
    customer = session.get_one(Customer, contract.customer_id)
    before = plans.contract_states(session, contract=contract)
    result = contract_service.record_payment(
        session, user=user, customer=customer, amount=amount, now=now, contract=contract
    )
    payment = result.payment
    if received_at is not None:
        payment.received_at = received_at
    payment.voucher_no, payment.source = voucher_no, source
    session.flush()
    receipt = Receipt(
        payment=payment, contract=contract, customer=customer, outstanding_after=result.outstanding_after
    )
    left = amount
    for state in before:
        if left <= 0:
            break
        take = min(left, max(state.remaining, Decimal(0)))
        if take > 0:
            receipt.applied.append((state.label, take, take >= state.remaining))
            left -= take
    if source == "chat":
        webhook.payment_created(session, config=config, payment=payment, now=now)
    return receipt


def open_contracts(session: Session, *, customer: Customer) -> list[tuple[Contract, Decimal]]:
    """The customer's contracts that still owe money, oldest first, with what each still owes."""
    contracts = list(
        session.scalars(
            select(Contract)
            .where(Contract.customer_id == customer.id)
            .order_by(Contract.signed_at, Contract.id)
        )
    )
    paid, _ = plans.totals_by_contract(session, [c.id for c in contracts])
    owing = [(c, Decimal(c.amount) - paid.get(c.id, Decimal(0))) for c in contracts]
    return [(c, o) for c, o in owing if o > 0]


def contract_for_customer(session: Session, *, customer: Customer) -> Contract | None:
    """The one open contract of the customer; Ambiguous (a numbered list) when several owe money."""
    owing = open_contracts(session, customer=customer)
    if len(owing) > 1:
        names = _opportunity_names(session, [c for c, _ in owing])
        choices = [
            (c.id, f"合同 #{c.id} {names.get(c.id, '')} 未收 {format_amount(o)}".replace("  ", " "))
            for c, o in owing
        ]
        raise Ambiguous(
            f"客户「{customer.name}」有 {len(owing)} 个合同未收完，请选择：\n"
            + "\n".join(f"{i}. {label}" for i, (_, label) in enumerate(choices, 1)),
            choices,
        )
    return owing[0][0] if owing else None


def contract_matching_amount(session: Session, *, customer: Customer, amount: Decimal) -> Contract | None:
    """Among the customer's open contracts, the one whose next instalment due (where a payment lands,
    `plans.oldest_open`) still owes exactly `amount`: `海川的款到了 10万` when only one contract is waiting for
    10万. None when none or several are."""
    matches = []
    for contract, _ in open_contracts(session, customer=customer):
        due = plans.oldest_open(plans.contract_states(session, contract=contract))
        if due is not None and due.remaining == amount:
            matches.append(contract)
    return matches[0] if len(matches) == 1 else None


def _opportunity_names(session: Session, contracts: list[Contract]) -> dict[int, str]:
    opp_ids = {c.opportunity_id: c.id for c in contracts if c.opportunity_id is not None}
    if not opp_ids:
        return {}
    rows = session.execute(select(Opportunity.id, Opportunity.name).where(Opportunity.id.in_(opp_ids))).all()
    return {opp_ids[i]: name for i, name in rows}


# --- which instalment a sentence means ----------------------------------------------------------------------

_NTH = re.compile(r"第([一二三四五六七八九十\d]{1,2})期")
_FIRST = ("首付款", "首付", "首期", "预付款", "预付", "定金", "订金", "签约款")
_LAST = ("尾款", "质保金", "质保款", "余款")
_BY_EVENT = {"发货款": "发货", "到货款": "发货", "提货款": "发货", "安装款": "安装", "验收款": "验收"}


def instalment_hint(text: str, count: int) -> int | None:
    """The instalment (1-based) a word names, if any: 首付款 → 1, 尾款 → the last, 第二期 → 2."""
    if any(w in text for w in _FIRST):
        return 1 if count else None  # a contract without a plan has no first instalment
    if any(w in text for w in _LAST):
        return count or None
    m = _NTH.search(text)
    if m:
        raw = m.group(1)
        n = int(raw) if raw.isdigit() else plans.ORDINALS.index(raw) + 1 if raw in plans.ORDINALS else None
        return n if n and 1 <= n <= count else None
    return None


@dataclass
class PaymentTarget:
    contract: Contract
    customer: Customer
    opportunity: str
    lands_on: plans.InstalmentState | None
    named: plans.InstalmentState | None  # the instalment the sentence named, if any
    notes: list[str] = field(default_factory=list)

    def command(self, amount: Decimal) -> str:
        """The exact command that records it (what the proposal's 确认 runs)."""
        return f"回款 #{self.contract.id} {amount.normalize():f}"

    def describe(self, amount: Decimal) -> str:
        head = f"回款 {format_amount(amount)} → {self.customer.name}「{self.opportunity}」合同 #{self.contract.id}"
        if self.lands_on is not None:
            inst = self.lands_on.instalment
            head += f" {self.lands_on.label}（应收 {format_amount(Decimal(inst.amount))}，未收 {format_amount(self.lands_on.remaining)}）"
        return "\n".join([head, *self.notes])


def payment_target(
    session: Session, *, user: User, keyword: str, amount: Decimal, hint: str = ""
) -> PaymentTarget:
    """The contract and instalment a payment for `keyword` (an opportunity or customer name) would land on.

    Raises NotFound, or Ambiguous when several contracts could be meant (the caller asks which)."""
    contract: Contract | None = None
    opps = [
        o
        for o in find_opportunities(session, user=user, keyword=keyword)
        if _contract_of(session, o.id, user) is not None
    ]
    if len(opps) == 1:
        contract = _contract_of(session, opps[0].id, user)
    elif len(opps) > 1:
        choices = []
        for o in opps:
            c = _contract_of(session, o.id, user)
            if c is not None:
                choices.append((c.id, f"合同 #{c.id} {o.name}"))
        raise Ambiguous(
            "找到多个合同，请选择：\n"
            + "\n".join(f"{i}. {label}" for i, (_, label) in enumerate(choices, 1)),
            choices,
        )
    else:
        customers = find_customers(session, user=user, keyword=keyword)
        if len(customers) > 1:
            choices = [(c.id, f"#{c.id} {c.name}") for c in customers]
            raise Ambiguous(
                "找到多个客户，请选择：\n"
                + "\n".join(f"{i}. {label}" for i, (_, label) in enumerate(choices, 1)),
                choices,
            )
        if customers:
            contract = contract_for_customer(session, customer=customers[0])
            if contract is None:
                raise DomainError(f"客户「{customers[0].name}」没有未收完的合同。")
    if contract is None:
        raise NotFound(f"没有找到「{keyword}」的合同。可以写商机名称、客户名称或合同编号（如 #3）。")
    return target_for_contract(session, contract=contract, amount=amount, hint=hint)


def _contract_of(session: Session, opportunity_id: int, user: User) -> Contract | None:
    return session.scalar(
        select(Contract)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Contract.opportunity_id == opportunity_id, Scope.of(user).customers())
    )


def target_for_contract(
    session: Session, *, contract: Contract, amount: Decimal, hint: str = ""
) -> PaymentTarget:
    customer = session.get_one(Customer, contract.customer_id)
    opp_name = _opportunity_names(session, [contract]).get(contract.id, "")
    states = plans.contract_states(session, contract=contract)
    lands_on = plans.oldest_open(states)
    named_seq = instalment_hint(hint, len(states)) if hint else None
    named = states[named_seq - 1] if named_seq else None
    target = PaymentTarget(
        contract=contract, customer=customer, opportunity=opp_name, lands_on=lands_on, named=named
    )
    owing = (
        sum((s.remaining for s in states), Decimal(0))
        if states
        else Decimal(contract.amount) - contract_service.paid(session, contract_id=contract.id)
    )
    if amount > owing:
        target.notes.append(f"超过合同未收金额 {format_amount(owing)}，不能登记。")
    if named is not None and lands_on is not None and named is not lands_on:
        if named.settled:
            target.notes.append(f"{named.label}已收齐；这笔会记入{lands_on.label}。")
        else:
            target.notes.append(
                f"{lands_on.label}还未收齐（未收 {format_amount(lands_on.remaining)}），这笔会先记入{lands_on.label}。"
            )
    elif lands_on is not None and amount > lands_on.remaining:
        target.notes.append(f"超出{lands_on.label}的部分记入下一期。")
    elif lands_on is not None and amount < lands_on.remaining:
        target.notes.append(f"{lands_on.label}还差 {format_amount(lands_on.remaining - amount)}。")
    return target


# --- promise ----------------------------------------------------------------------------------------------------


def promise(
    session: Session, *, user: User, contract: Contract, day: date, now: datetime
) -> plans.InstalmentState:
    """客户承诺 <日期>: the oldest open instalment's ladder pauses until `day`."""
    today = plans.local_day(now)
    if day < today:
        raise DomainError(f"承诺日期 {day:%Y-%m-%d} 已经过去了，请写今天或以后的日期。")
    state = plans.oldest_open(plans.contract_states(session, contract=contract))
    if state is None:
        raise DomainError(f"合同 #{contract.id} 已全部回款，不需要承诺日期。")
    state.instalment.promised_on = day
    audit.record(
        session,
        actor=user.userid,
        entity="instalment",
        entity_id=state.instalment.id,
        action="promise",
        now=now,
        changes={"promised_on": [None, day.isoformat()]},
    )
    return state


def resolve_visible_contract(session: Session, *, user: User, contract_id: int) -> Contract:
    try:
        return contract_service.resolve_contract(session, user=user, contract_id=contract_id)
    except NotFound:
        raise NotFound(f"没有找到合同 #{contract_id}（或不在您的范围内）。") from None


def due_view(session: Session, *, instalment: Instalment, contract: Contract) -> cards.DueView | None:
    states = plans.contract_states(session, contract=contract)
    state = next((s for s in states if s.instalment.id == instalment.id), None)
    if state is None or instalment.due_on is None:
        return None
    customer = session.get_one(Customer, contract.customer_id)
    opp = session.get(Opportunity, contract.opportunity_id) if contract.opportunity_id else None
    owner = plans.owner_of(session, contract=contract)
    owner_name = session.scalar(select(User.name).where(User.userid == owner)) or owner
    return cards.DueView(
        instalment_id=instalment.id,
        contract_id=contract.id,
        customer=customer.name,
        opportunity=opp.name if opp else "",
        label=state.label,
        amount=Decimal(instalment.amount),
        remaining=max(state.remaining, Decimal(0)),
        due_on=instalment.due_on,
        owner_name=owner_name,
        invoiced=not state.needs_invoice,
        through=settle_amount(states, instalment_id=instalment.id),
    )


def settle_amount(states: list[plans.InstalmentState], *, instalment_id: int) -> Decimal:
    """What must be received for this instalment to be settled: payments land on the oldest open instalment
    first, so the earlier instalments' open remainders come with it."""
    total = Decimal(0)
    for s in states:
        total += max(s.remaining, Decimal(0))
        if s.instalment.id == instalment_id:
            return total
    return total
