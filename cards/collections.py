"""Collections cards (pure): the due-day card with 已回款 ¥x / 客户承诺 / 需要开票, and its greyed states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cards.keys import COLLECTION_INVOICE, COLLECTION_PAID, COLLECTION_PROMISE, CardKey

SOURCE = {"desc": "销售助手", "desc_color": 1}
PAID, PROMISE, INVOICE = COLLECTION_PAID, COLLECTION_PROMISE, COLLECTION_INVOICE


def short_amount(amount: Decimal) -> str:
    """¥16.8万 / ¥8,400: short enough for a button."""
    if abs(amount) >= 10000:
        text = f"{amount / 10000:.2f}".rstrip("0").rstrip(".")
        return f"¥{text}万"
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,.2f}"


@dataclass(frozen=True)
class DueView:
    instalment_id: int
    contract_id: int
    customer: str
    opportunity: str
    label: str  # 第二期
    amount: Decimal
    remaining: Decimal
    due_on: date
    owner_name: str
    invoiced: bool
    through: Decimal = Decimal(0)  # what settles it: its own remaining plus earlier instalments still open
    title: str = "回款到期"  # the ladder's state (services/ladder.state_of): 回款今日到期 / 回款逾期N个工作日


def due_task_id(instalment_id: int, due_on: date, n: int) -> str:
    """One card per instalment, due date and recipient (n = the recipient's place in the send)."""
    return f"coll{instalment_id}d{due_on:%Y%m%d}r{n}"


def due_card(view: DueView, *, task_id: str, replace_text: str | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": view.title, "desc": f"合同 #{view.contract_id} {view.label}"[:44]},
        "horizontal_content_list": [
            {"keyname": "客户", "value": view.customer[:60]},
            {"keyname": "商机", "value": (view.opportunity or "—")[:60]},
            {
                "keyname": "应收",
                "value": f"{short_amount(view.amount)}（未收 {short_amount(view.remaining)}）",
            },
            {"keyname": "到期", "value": f"{view.due_on:%Y-%m-%d}"},
            *(
                [{"keyname": "连同前期", "value": f"共待收 {short_amount(view.through)}"}]
                if view.through > view.remaining
                else []
            ),
            {"keyname": "负责人", "value": view.owner_name[:30]},
            {"keyname": "发票", "value": "已开" if view.invoiced else "尚未开票"},
        ],
        "task_id": task_id,
        "button_list": [
            {
                "text": f"已回款 {short_amount(max(view.through, view.remaining))}",
                "style": 1,
                "key": CardKey(PAID).pack(),
            },
            {"text": "客户承诺日期", "style": 2, "key": CardKey(PROMISE).pack()},
            {"text": "需要开票", "style": 2, "key": CardKey(INVOICE).pack()},
        ],
    }
    if replace_text:
        card["replace_text"] = replace_text
    return card
