"""Invoices (开票, by 财务经理): what was invoiced on a contract. Applied to instalments in plan order like
payments (services/plans.py), so the ladder knows which due instalment has no invoice yet."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Contract, Invoice, User
from services import audit
from services.parsing import format_amount


def invoiced(session: Session, *, contract_id: int) -> Decimal:
    return Decimal(
        session.scalar(
            select(func.coalesce(func.sum(Invoice.amount), 0)).where(Invoice.contract_id == contract_id)
        )
        or 0
    )


def record_invoice(
    session: Session, *, user: User, contract: Contract, amount: Decimal, number: str | None, now: datetime
) -> tuple[Invoice, Decimal]:
    """(the invoice, what is still not invoiced). Never more than the contract; a number is used once."""
    if amount <= 0:
        raise DomainError("开票金额要大于 0。")
    if number is not None:
        existing = session.scalar(select(Invoice).where(Invoice.number == number))
        if existing is not None:
            raise DomainError(
                f"发票号 {number} 已登记过（合同 #{existing.contract_id}，{format_amount(Decimal(existing.amount))}）。没有重复记录。"
            )
    left = Decimal(contract.amount) - invoiced(session, contract_id=contract.id)
    if amount > left:
        raise DomainError(
            f"开票超过合同 #{contract.id} 未开票金额：合同 {format_amount(Decimal(contract.amount))}，未开票 {format_amount(left)}。没有记录。"
        )
    invoice = Invoice(
        contract_id=contract.id, amount=amount, number=number, invoiced_at=now, recorded_by=user.userid
    )
    session.add(invoice)
    session.flush()
    audit.record(
        session,
        actor=user.userid,
        entity="invoice",
        entity_id=invoice.id,
        action="create",
        now=now,
        changes={"contract_id": [None, contract.id], "amount": [None, amount], "number": [None, number]},
    )
    return invoice, left - amount
