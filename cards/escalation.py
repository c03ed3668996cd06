"""The escalation card (pure): something on a manager's team waits too long — 查看客户 · 已协助.

Three escalations send it: a team's overdue follow-ups (schedulers/reminders.py), an approval step waiting
past `approval.escalate_after_hours` (schedulers/approvals.py) and a lead not accepted in time
(schedulers/leads.py). 查看客户 shows the customer within the tapper's scope; 已协助 greys the card and is
only recorded (handlers/todo.py, services/escalations.py). Neutral words: it asks for help, it blames nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.keys import ESCALATION_ASSISTED, ESCALATION_CUSTOMER, CardKey
from cards.next_step import new_task_id
from services import escape

SOURCE = {"desc": "销售助手", "desc_color": 0}
ASSISTED = "已协助"


@dataclass(frozen=True)
class EscalationView:
    title: str  # 团队跟进逾期 / 审批等待较久 / 线索未接单
    desc: str  # one line: how many, how long
    body: tuple[str, ...]  # the details, a line each (user text inside is escaped here)
    with_customer: bool  # 查看客户 offered: the escalation is about one customer (or lead)


def escalation_task_id() -> str:
    """Unguessable, like every card's: a forged task id names nobody's card."""
    return new_task_id("esc")


def _body(lines: tuple[str, ...], room: int = 150) -> str:
    text = "\n".join(escape.card(line) for line in lines)
    return text if len(text) <= room else text[: room - 1] + "…"


def escalation_card(view: EscalationView, *, task_id: str, replace_text: str | None = None) -> dict[str, Any]:
    buttons: list[dict[str, Any]] = []
    if view.with_customer:
        buttons.append({"text": "查看客户", "style": 2, "key": CardKey(ESCALATION_CUSTOMER).pack()})
    buttons.append({"text": ASSISTED, "style": 1, "key": CardKey(ESCALATION_ASSISTED).pack()})
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": view.title[:36], "desc": view.desc[:44]},
        "sub_title_text": _body(view.body),
        "task_id": task_id,
        "button_list": buttons,
    }
    if replace_text:
        card["replace_text"] = replace_text
    return card
