"""Export to XLSX (openpyxl write-only, streamed): customers, visits, opportunities, payments.

Chinese headers, one row per record, times in Asia/Shanghai. The customer sheet uses the configured field
labels (custom fields included) and can be imported again (its extra columns are ignored on import).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Opportunity, Payment, User, Visit
from services import escape
from services.config import BusinessConfig
from services.customer_fields import get_value
from services.parsing import SHANGHAI

POTENTIAL = "潜在"  # segment None


def _when(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def _money(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def write_sheet(path: Path, title: str, headers: list[str], rows: Iterable[list[Any]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)

    def as_cell(value: Any) -> Any:
        """User text is written as text: a value that would start a formula gets data_type 's' (issue 16 #8)."""
        if not isinstance(value, str):
            return "" if value is None else value
        clean, must_be_text = escape.cell(value)
        if not must_be_text:
            return clean
        cell = WriteOnlyCell(sheet, value=clean)
        cell.data_type = "s"
        return cell

    count = 0
    for row in rows:
        sheet.append([as_cell(v) for v in row])
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return count


def _user_names(session: Session) -> dict[str, str]:
    return {u: n for u, n in session.execute(select(User.userid, User.name))}


def _customer_names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.execute(select(Customer.id, Customer.name))}


def export_customers(session: Session, *, path: Path, config: BusinessConfig) -> int:
    users = _user_names(session)
    fields = config.customer_fields
    headers = [
        "编号",
        *(f.label for f in fields),
        "负责人账号",
        "负责人",
        "客户分层",
        "信息完整",
        "创建时间",
        "更新时间",
    ]

    def rows() -> Iterable[list[Any]]:
        for c in session.scalars(select(Customer).order_by(Customer.id).execution_options(yield_per=1000)):
            yield [
                c.id,
                *(get_value(c, f) for f in fields),
                c.owner_userid,
                users.get(c.owner_userid, c.owner_userid),
                c.segment or POTENTIAL,
                "是" if c.complete else "否",
                _when(c.created_at),
                _when(c.updated_at),
            ]

    return write_sheet(path, "客户", headers, rows())


def export_visits(session: Session, *, path: Path, config: BusinessConfig) -> int:
    users, customers = _user_names(session), _customer_names(session)
    headers = [
        "编号",
        "客户编号",
        "客户名称",
        "拜访人",
        "拜访人账号",
        "拜访时间",
        "拜访内容",
        "位置",
        "距客户(米)",
        "位置异常",
        "照片数",
    ]

    def rows() -> Iterable[list[Any]]:
        for v in session.scalars(select(Visit).order_by(Visit.id).execution_options(yield_per=1000)):
            yield [
                v.id,
                v.customer_id,
                customers.get(v.customer_id, ""),
                users.get(v.userid, v.userid),
                v.userid,
                _when(v.visited_at),
                v.summary,
                v.location_label,
                round(v.distance_m) if v.distance_m is not None else None,
                "是" if v.location_anomaly else "否",
                v.photo_count,
            ]

    return write_sheet(path, "拜访", headers, rows())


def export_opportunities(session: Session, *, path: Path, config: BusinessConfig) -> int:
    users, customers = _user_names(session), _customer_names(session)
    headers = [
        "编号",
        "客户编号",
        "客户名称",
        "商机名称",
        "金额(元)",
        "阶段",
        "评分",
        "优先级",
        "评分项",
        "负责人",
        "负责人账号",
        "输单原因",
        "创建时间",
        "更新时间",
        "关闭时间",
    ]

    def rows() -> Iterable[list[Any]]:
        for o in session.scalars(
            select(Opportunity).order_by(Opportunity.id).execution_options(yield_per=1000)
        ):
            yield [
                o.id,
                o.customer_id,
                customers.get(o.customer_id, ""),
                o.name,
                _money(o.amount),
                o.stage,
                o.score,
                o.priority,
                "、".join(o.score_items or []),
                users.get(o.owner_userid, o.owner_userid),
                o.owner_userid,
                o.lost_reason,
                _when(o.created_at),
                _when(o.updated_at),
                _when(o.closed_at),
            ]

    return write_sheet(path, "商机", headers, rows())


def export_payments(session: Session, *, path: Path, config: BusinessConfig) -> int:
    users, customers = _user_names(session), _customer_names(session)
    headers = [
        "编号",
        "客户编号",
        "客户名称",
        "合同编号",
        "合同金额(元)",
        "回款金额(元)",
        "回款时间",
        "登记人",
    ]
    contracts = {i: a for i, a in session.execute(select(Contract.id, Contract.amount))}

    def rows() -> Iterable[list[Any]]:
        for p in session.scalars(select(Payment).order_by(Payment.id).execution_options(yield_per=1000)):
            yield [
                p.id,
                p.customer_id,
                customers.get(p.customer_id, ""),
                p.contract_id,
                _money(contracts.get(p.contract_id)) if p.contract_id else None,
                _money(p.amount),
                _when(p.received_at),
                users.get(p.recorded_by, p.recorded_by),
            ]

    return write_sheet(path, "回款", headers, rows())


EXPORTERS: dict[str, Callable[..., int]] = {
    "customers": export_customers,
    "visits": export_visits,
    "opportunities": export_opportunities,
    "payments": export_payments,
}
