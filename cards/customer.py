"""Customer views (pure): the 客户 360 text (a `CustomerView` in, text out; services/customers.py gathers it)
and the card asked when a new customer's phone already belongs to another one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cards.keys import CUSTOMER_CREATE_ANYWAY as CREATE_ANYWAY
from cards.keys import CUSTOMER_CREATE_CANCEL as CREATE_CANCEL
from cards.keys import CardKey
from cards.visit import flag_text
from models import StepStatus
from services import escape


def phone_task_id() -> str:
    return f"cdup-{secrets.token_hex(8)}"


def phone_taken_card(
    *, task_id: str, new_name: str, existing_name: str, existing_id: int, replace_text: str | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "销售助手"},
        "main_title": {"title": "电话已被其他客户使用", "desc": f"新客户：{escape.card(new_name, 40)}"},
        "sub_title_text": f"电话已登记在「{escape.card(existing_name, 40)}」（#{existing_id}），确认是另一家客户？",
        "task_id": task_id,
        "button_list": [
            {"text": "仍然新建", "style": 1, "key": CardKey(CREATE_ANYWAY).pack()},
            {"text": "取消", "style": 2, "key": CardKey(CREATE_CANCEL).pack()},
        ],
    }
    if replace_text:
        card["replace_text"] = replace_text
    return card


@dataclass(frozen=True)
class OpenOpportunityLine:
    id: int
    name: str
    amount: str | None  # formatted (services/parsing.format_amount); None when not known
    stage: str
    priority: str


@dataclass(frozen=True)
class VisitLine:
    day: datetime  # local (Asia/Shanghai)
    who: str
    summary: str
    location: str | None = None
    photos: int = 0
    flagged: bool = False  # recorded far from the customer (services/visits)
    distance_m: float | None = None
    flag_note: str | None = None  # the rep's explanation of a flagged visit


@dataclass(frozen=True)
class CustomerView:
    """What 客户 shows someone who may see the customer: everything they may see, already formatted."""

    name: str
    id: int
    segment: str | None
    owner: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, value) of the filled fields
    missing: list[str] = field(default_factory=list)  # labels of the completeness fields still empty
    opportunities: list[OpenOpportunityLine] = field(default_factory=list)
    contract_lines: list[str] = field(default_factory=list)  # services/plans.customer_lines
    visits: list[VisitLine] = field(default_factory=list)  # the last three, newest first
    next_followup: tuple[datetime, str] | None = None  # (local due time, title)


@dataclass(frozen=True)
class RoutedQuote:
    quote_id: int
    opportunity: str
    amount: str
    requester: str
    status: StepStatus


@dataclass(frozen=True)
class RoutedCustomerView:
    """What 客户 shows a 技术负责人/财务经理: only the quotes their approval cards showed (issue 16 #5)."""

    name: str
    id: int
    quotes: list[RoutedQuote] = field(default_factory=list)


ROUTED_STATUS = {
    StepStatus.PENDING: "待您审批",
    StepStatus.APPROVED: "您已同意",
    StepStatus.REJECTED: "您已驳回",
}


def customer_text(view: CustomerView | RoutedCustomerView) -> str:
    """The 客户 360 text."""
    if isinstance(view, RoutedCustomerView):
        lines = [f"【{view.name}】#{view.id}", "您审批过或待您审批的报价："]
        lines += [
            f"• 报价 #{q.quote_id} {q.opportunity} {q.amount}｜申请人：{q.requester}"
            f"｜{ROUTED_STATUS.get(q.status, q.status)}"
            for q in view.quotes
        ]
        return "\n".join(lines)
    segment = f"{view.segment}客户" if view.segment else "潜在客户"
    lines = [f"【{view.name}】#{view.id}  {segment}", f"负责人：{view.owner}"]
    lines += [f"{label}：{value}" for label, value in view.fields]
    if view.missing:
        lines.append(f"待补充：{'、'.join(view.missing)}")
    if view.opportunities:
        lines.append("进行中的商机：")
        for o in view.opportunities:
            amount = f" {o.amount}" if o.amount is not None else ""
            lines.append(f"• #{o.id} {o.name}{amount}｜{o.stage}｜优先级{o.priority}")
    else:
        lines.append("进行中的商机：无")
    lines += view.contract_lines
    if view.visits:
        lines.append("最近拜访：")
        for v in view.visits:
            extra = []
            if v.location:
                extra.append(f"📍{v.location}")
            if v.photos:
                extra.append(f"照片{v.photos}张")
            if (
                v.distance_m is not None
            ):  # the rep sees the same flag as the supervisor, with their explanation
                note = f"，说明：{v.flag_note}" if v.flag_note else ""
                extra.append(f"{flag_text(v.distance_m)}{note}")
            summary = v.summary if len(v.summary) <= 60 else v.summary[:60] + "…"
            tail = f"（{'，'.join(extra)}）" if extra else ""
            lines.append(f"• {v.day:%m-%d} {v.who}：{summary}{tail}")
    else:
        lines.append("最近拜访：暂无。发送「拜访 客户 纪要」记录")
    if view.next_followup is not None:
        due, title = view.next_followup
        lines.append(f"下次跟进：{due:%m-%d %H:%M} {title}")
    else:
        lines.append("下次跟进：未安排")
    return "\n".join(lines)
