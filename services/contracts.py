"""Contracts and payments (回款).

Rules chosen here: one contract per opportunity; recording it moves the opportunity to 合同签署 through
services/stages.move_stage (via=CONTRACT), so the gate "needs an approved quote" applies. A payment never
exceeds what is still outstanding on its contract: `#合同号` names it; a customer name is enough only while the
customer has one contract left to collect, otherwise the user is asked which (never picked silently).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Contract, Customer, Opportunity, Payment, Quote, QuoteStatus, User
from services import audit, stages
from services.config import BusinessConfig
from services.parsing import format_amount
from services.scope import Scope

CONTRACT_STAGE = "合同签署"


def contract_stage(config: BusinessConfig) -> str | None:
    """The stage a signed contract puts an opportunity in: 合同签署, or the stage gated on an approved quote."""
    if CONTRACT_STAGE in config.stages:
        return CONTRACT_STAGE
    for stage, gates in config.gates.items():
        if "approved_quote" in [str(g) for g in gates]:
            return stage
    return None


def record_contract(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    opportunity: Opportunity,
    customer: Customer,
    amount: Decimal,
    now: datetime,
) -> Contract:
    existing = session.scalar(select(Contract).where(Contract.opportunity_id == opportunity.id))
    if existing is not None:
        raise DomainError(
            f"商机「{opportunity.name}」已经有合同 #{existing.id}（{format_amount(existing.amount)}），"
            f"这次没有重复登记。收到款项后发送：回款 #{existing.id} 金额"
        )
    _check_covered(session, config=config, opportunity=opportunity, amount=amount)
    target = contract_stage(config)
    if target is not None and opportunity.stage != target:
        stages.move_stage(
            session,
            config=config,
            opportunity=opportunity,
            to_stage=target,
            actor=user.userid,
            now=now,
            via=stages.CONTRACT,
            customer_name=customer.name,
        )
    elif opportunity.closed_at is not None:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}）。")
    contract = Contract(
        opportunity_id=opportunity.id,
        customer_id=customer.id,
        amount=amount,
        signed_at=now,
        signed_by=user.userid,
    )
    session.add(contract)
    session.flush()
    if opportunity.amount != amount:  # the opportunity is worth what was signed
        audit.record(
            session,
            actor=user.userid,
            entity="opportunity",
            entity_id=opportunity.id,
            action="amount",
            now=now,
            changes={"amount": [opportunity.amount, amount]},
            detail=f"contract #{contract.id}",
        )
        opportunity.amount = amount
    audit.record(
        session,
        actor=user.userid,
        entity="contract",
        entity_id=contract.id,
        action="create",
        now=now,
        changes={
            "opportunity_id": [None, opportunity.id],
            "customer_id": [None, customer.id],
            "amount": [None, amount],
        },
    )
    return contract


def _check_covered(
    session: Session, *, config: BusinessConfig, opportunity: Opportunity, amount: Decimal
) -> None:
    """An approval covers an amount (issue 16 #3): a contract above the approved quote (beyond the configured
    tolerance) needs a new quote, whose chain is decided by the larger amount."""
    approved = session.scalar(
        select(Quote)
        .where(Quote.opportunity_id == opportunity.id, Quote.status == QuoteStatus.APPROVED)
        .order_by(Quote.decided_at.desc(), Quote.id.desc())
        .limit(1)
    )
    if approved is None:
        return  # no approval to exceed; the stage gate (if configured) says whether one is needed
    ceiling = Decimal(approved.amount) * (1 + config.approval.contract_tolerance_percent / Decimal(100))
    if amount > ceiling:
        raise DomainError(
            f"合同金额 {format_amount(amount)} 超过已审批报价 #{approved.id} 的 {format_amount(approved.amount)}，"
            f"需要按新金额重新审批。发送：报价 {opportunity.name} {amount.normalize():f} 说明"
        )


def paid(session: Session, *, contract_id: int) -> Decimal:
    return session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.contract_id == contract_id)
    ) or Decimal(0)


def resolve_contract(session: Session, *, user: User, contract_id: int) -> Contract:
    found = session.scalar(
        select(Contract)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Contract.id == contract_id, Scope.of(user).customers())
    )
    if found is None:
        raise NotFound(f"没有找到合同 #{contract_id}。")
    return found


@dataclass
class PaymentResult:
    payment: Payment
    contract: Contract | None
    outstanding_after: Decimal


def record_payment(
    session: Session,
    *,
    user: User,
    customer: Customer,
    amount: Decimal,
    now: datetime,
    contract: Contract | None = None,
) -> PaymentResult:
    target: Contract | None
    if contract is not None:
        balance = Decimal(contract.amount) - Decimal(paid(session, contract_id=contract.id))
        if amount > balance:
            raise DomainError(
                f"回款超过合同 #{contract.id} 的未收金额：合同 {format_amount(contract.amount)}，"
                f"未收 {format_amount(balance)}。没有记录。"
            )
        target = contract
        outstanding_after = balance - amount
    else:
        contracts = list(
            session.scalars(
                select(Contract)
                .where(Contract.customer_id == customer.id)
                .order_by(Contract.signed_at, Contract.id)
            )
        )
        if not contracts:
            raise DomainError(f"客户「{customer.name}」还没有合同，先登记：合同 商机 金额")
        balances = [(c, Decimal(c.amount) - Decimal(paid(session, contract_id=c.id))) for c in contracts]
        open_ = [(c, b) for c, b in balances if b > 0]
        if not open_:
            raise DomainError(f"客户「{customer.name}」的合同都已收齐，没有未收金额。没有记录。")
        if len(open_) > 1:
            # Which contract a payment settles is the user's to say (issue 16): never picked silently, and
            # what is outstanding is always per contract.
            lines = [f"客户「{customer.name}」有 {len(open_)} 份未收完的合同，请指定合同编号，没有记录："]
            lines += [f"• #{c.id} 合同 {format_amount(c.amount)}，未收 {format_amount(b)}" for c, b in open_]
            lines.append(f"例：回款 #{open_[0][0].id} {amount.normalize():f}")
            raise DomainError("\n".join(lines))
        target, balance = open_[0]
        if amount > balance:
            raise DomainError(
                f"回款超过合同 #{target.id} 的未收金额：合同 {format_amount(target.amount)}，"
                f"未收 {format_amount(balance)}。没有记录。"
            )
        outstanding_after = balance - amount
    payment = Payment(
        contract_id=target.id if target else None,
        customer_id=customer.id,
        amount=amount,
        received_at=now,
        recorded_by=user.userid,
    )
    session.add(payment)
    session.flush()
    audit.record(
        session,
        actor=user.userid,
        entity="payment",
        entity_id=payment.id,
        action="create",
        now=now,
        changes={
            "customer_id": [None, customer.id],
            "contract_id": [None, payment.contract_id],
            "amount": [None, amount],
        },
    )
    return PaymentResult(payment=payment, contract=target, outstanding_after=outstanding_after)


def customer_of(session: Session, *, opportunity: Opportunity) -> Customer:
    return session.get_one(Customer, opportunity.customer_id)
