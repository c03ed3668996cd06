"""`salesbot finance export FILE --from --to`: contracts, instalments, invoices and payments in one XLSX a
finance clerk imports into 用友 U8 / 金蝶 (the column mapping is in docs/finance.md).

Four sheets, Chinese headers, dates as YYYY-MM-DD in Asia/Shanghai, amounts as numbers with 2 decimals:
合同 (signed in the range), 收款计划 (the instalments of those contracts and any instalment due in the
range), 发票 (invoiced in the range), 收款 (received in the range). Codes are stable: 合同编号 SB000012,
客户编码 KH000034, 收款单号 SK000056, so a re-export of an overlapping range maps to the same ERP records.
User text is written as text (a would-be formula stays text: services/escape.cell).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Instalment, Invoice, Opportunity, Payment, User
from services import escape, plans
from services.finance_import import contract_code
from services.parsing import SHANGHAI

CONTRACT_HEADERS = [
    "合同编号",
    "客户编码",
    "客户名称",
    "项目（商机）",
    "合同金额",
    "签约日期",
    "业务员",
    "部门（区域）",
    "已收金额",
    "已开票金额",
    "未收金额",
]
PLAN_HEADERS = [
    "合同编号",
    "客户编码",
    "客户名称",
    "期次",
    "比例(%)",
    "计划收款金额",
    "收款条件",
    "到期日",
    "已收金额",
    "已开票金额",
    "状态",
]
INVOICE_HEADERS = ["合同编号", "客户编码", "客户名称", "发票号", "开票金额", "开票日期", "登记人"]
PAYMENT_HEADERS = [
    "收款单号",
    "凭证号",
    "合同编号",
    "客户编码",
    "客户名称",
    "收款金额",
    "收款日期",
    "摘要",
    "来源",
    "登记人",
]


def customer_code(customer_id: int) -> str:
    return f"KH{customer_id:06d}"


def receipt_code(payment_id: int) -> str:
    return f"SK{payment_id:06d}"


@dataclass
class ExportCounts:
    contracts: int = 0
    instalments: int = 0
    invoices: int = 0
    payments: int = 0

    def summary(self, path: Path, start: date, end: date) -> str:
        return (
            f"已导出 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}：合同 {self.contracts}，收款计划 {self.instalments}，"
            f"发票 {self.invoices}，收款 {self.payments} → {path}"
        )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(0), tzinfo=SHANGHAI), datetime.combine(
        end + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )


def _day(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d")


def _money(value: Decimal | None) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def export_finance(session: Session, *, path: Path, start: date, end: date, now: datetime) -> ExportCounts:
    if end < start:
        raise ValueError("--to 早于 --from")
    lo, hi = _bounds(start, end)
    names = dict(session.execute(select(User.userid, User.name)).all())
    contracts = list(
        session.scalars(
            select(Contract).where(Contract.signed_at >= lo, Contract.signed_at < hi).order_by(Contract.id)
        )
    )
    due = list(
        session.scalars(select(Instalment).where(Instalment.due_on >= start, Instalment.due_on <= end))
    )
    signed_ids = {c.id for c in contracts}
    plan_contract_ids = signed_ids | {i.contract_id for i in due}
    extra = plan_contract_ids - signed_ids
    all_contracts = {c.id: c for c in contracts}
    if extra:
        all_contracts.update(
            {c.id: c for c in session.scalars(select(Contract).where(Contract.id.in_(extra)))}
        )
    invoices = list(
        session.scalars(
            select(Invoice).where(Invoice.invoiced_at >= lo, Invoice.invoiced_at < hi).order_by(Invoice.id)
        )
    )
    payments = list(
        session.scalars(
            select(Payment).where(Payment.received_at >= lo, Payment.received_at < hi).order_by(Payment.id)
        )
    )
    customer_ids = {c.customer_id for c in all_contracts.values()} | {p.customer_id for p in payments}
    invoice_contracts = {i.contract_id for i in invoices} - set(all_contracts)
    if invoice_contracts:
        all_contracts.update(
            {c.id: c for c in session.scalars(select(Contract).where(Contract.id.in_(invoice_contracts)))}
        )
        customer_ids |= {all_contracts[i].customer_id for i in invoice_contracts}
    customers = (
        {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
        if customer_ids
        else {}
    )
    opp_ids = {c.opportunity_id for c in all_contracts.values() if c.opportunity_id}
    opps = (
        {o.id: o for o in session.scalars(select(Opportunity).where(Opportunity.id.in_(opp_ids)))}
        if opp_ids
        else {}
    )
    paid, invoiced = plans.totals_by_contract(session, all_contracts)
    instalments: dict[int, list[Instalment]] = {}
    if plan_contract_ids:
        for inst in session.scalars(
            select(Instalment)
            .where(Instalment.contract_id.in_(plan_contract_ids))
            .order_by(Instalment.contract_id, Instalment.seq)
        ):
            instalments.setdefault(inst.contract_id, []).append(inst)
    today = now.astimezone(SHANGHAI).date()

    def cust(cid: int) -> tuple[str, str]:
        c = customers.get(cid)
        return customer_code(cid), c.name if c else ""

    def contract_rows() -> Iterable[list[Any]]:
        for c in contracts:
            o = opps.get(c.opportunity_id or 0)
            customer = customers.get(c.customer_id)
            got = paid.get(c.id, Decimal(0))
            yield [
                contract_code(c.id),
                *cust(c.customer_id),
                o.name if o else "",
                _money(c.amount),
                _day(c.signed_at),
                names.get(o.owner_userid if o else c.signed_by, c.signed_by),
                (customer.region if customer else "") or "",
                _money(got),
                _money(invoiced.get(c.id)),
                _money(Decimal(c.amount) - got),
            ]

    plan_rows: list[list[Any]] = []
    due_ids = {i.id for i in due}
    for cid in sorted(plan_contract_ids):
        states = plans.states_from(
            instalments.get(cid, []), paid=paid.get(cid, Decimal(0)), invoiced=invoiced.get(cid, Decimal(0))
        )
        for s in states:
            inst = s.instalment
            if cid not in signed_ids and inst.id not in due_ids:
                continue
            plan_rows.append(
                [
                    contract_code(cid),
                    *cust(all_contracts[cid].customer_id),
                    s.label,
                    float(inst.percent) if inst.percent is not None else "",
                    _money(inst.amount),
                    plans.rule_text(inst),
                    _day(inst.due_on),
                    _money(s.paid),
                    _money(s.invoiced),
                    s.status(today),
                ]
            )

    def invoice_rows() -> Iterable[list[Any]]:
        for i in invoices:
            yield [
                contract_code(i.contract_id),
                *cust(all_contracts[i.contract_id].customer_id),
                i.number or "",
                _money(i.amount),
                _day(i.invoiced_at),
                names.get(i.recorded_by, i.recorded_by),
            ]

    def payment_rows() -> Iterable[list[Any]]:
        for p in payments:
            code, name = cust(p.customer_id)
            contract = contract_code(p.contract_id) if p.contract_id else ""
            yield [
                receipt_code(p.id),
                p.voucher_no or "",
                contract,
                code,
                name,
                _money(p.amount),
                _day(p.received_at),
                f"收{name}货款{(' ' + contract) if contract else ''}",
                "ERP导入" if p.source == "erp" else "销售助手",
                names.get(p.recorded_by, p.recorded_by),
            ]

    counts = ExportCounts()
    sheets = [
        ("合同", CONTRACT_HEADERS, list(contract_rows())),
        ("收款计划", PLAN_HEADERS, plan_rows),
        ("发票", INVOICE_HEADERS, list(invoice_rows())),
        ("收款", PAYMENT_HEADERS, list(payment_rows())),
    ]
    _write_book(path, sheets)
    counts.contracts, counts.instalments, counts.invoices, counts.payments = (
        len(rows) for _, _, rows in sheets
    )
    return counts


def _write_book(path: Path, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            cells: list[Any] = []
            for value in row:
                if isinstance(value, str):
                    clean, must_be_text = escape.cell(value)
                    if must_be_text:
                        cell = WriteOnlyCell(sheet, value=clean)
                        cell.data_type = "s"
                        cells.append(cell)
                        continue
                    cells.append(clean)
                else:
                    cells.append(value)
            sheet.append(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
