"""Reminder cards (pure): the due-time card with 已完成 / 推迟1天 / 推迟1周, its greyed states, and the
visit card's state after a follow-up button was tapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.keys import REMINDER_DONE, REMINDER_SNOOZE, VISIT_FOLLOWUP, CardKey
from services import escape

SOURCE = {"desc": "销售助手", "desc_color": 1}


@dataclass(frozen=True)
class ReminderView:
    id: int
    title: str
    customer: str
    due_text: str  # format_when(...) of due_at
    snooze_count: int
    late: bool = False


def reminder_task_id(reminder_id: int, snooze_count: int) -> str:
    """One card per reminder version: a snooze makes a new card with a new task_id."""
    return f"rem{reminder_id}n{snooze_count}"


def _buttons() -> list[dict[str, Any]]:
    return [
        {"text": "已完成", "style": 1, "key": CardKey(REMINDER_DONE).pack()},
        {"text": "推迟1天", "style": 2, "key": CardKey(REMINDER_SNOOZE, "1d").pack()},
        {"text": "推迟1周", "style": 2, "key": CardKey(REMINDER_SNOOZE, "1w").pack()},
    ]


def reminder_card(view: ReminderView, *, replace_text: str | None = None) -> dict[str, Any]:
    """The card sent at due time; with `replace_text` the buttons turn grey (after a tap or when stale)."""
    title = "跟进提醒（补发）" if view.late else "跟进提醒"
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": title, "desc": f"待办 #{view.id}"},
        "horizontal_content_list": [
            {"keyname": "事项", "value": escape.card(view.title, 60)},
            {"keyname": "客户", "value": escape.card(view.customer, 60)},
            {"keyname": "到期", "value": view.due_text},
        ],
        "task_id": reminder_task_id(view.id, view.snooze_count),
        "button_list": _buttons(),
    }
    if view.late:
        card["sub_title_text"] = "服务暂停期间到期，现在补发。"
    if replace_text:
        card["replace_text"] = replace_text
    return card


def escalation_text(*, owner_name: str, reminder_id: int, title: str, customer: str, due_text: str, hours: int) -> str:
    return (
        f"【跟进逾期】{owner_name}的跟进已逾期{hours}小时仍未完成：\n"
        f"事项：{title}\n客户：{customer}\n到期：{due_text}（待办 #{reminder_id}）\n"
        "请了解情况，必要时协助推进。"
    )


def visit_followup_card(
    *, task_id: str, customer: str, summary: str, replace_text: str
) -> dict[str, Any]:
    """The visit confirmation after a follow-up button: same task_id, buttons greyed with the result."""
    return {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": "拜访已记录", "desc": escape.card(customer, 44)},
        "sub_title_text": escape.card(summary, 160),
        "task_id": task_id,
        "button_list": [
            {"text": "明天", "style": 2, "key": CardKey(VISIT_FOLLOWUP, "1d").pack()},
            {"text": "3天后", "style": 2, "key": CardKey(VISIT_FOLLOWUP, "3d").pack()},
            {"text": "下周", "style": 2, "key": CardKey(VISIT_FOLLOWUP, "1w").pack()},
        ],
        "replace_text": replace_text,
    }
