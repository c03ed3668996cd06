"""Reminder cards (pure): the due-time card with 已完成 / 推迟1天 / 推迟1周, its greyed states, and the
visit card's state after a follow-up button was tapped."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cards.keys import (
    REMINDER_CANCEL,
    REMINDER_DONE,
    REMINDER_SNOOZE,
    REMINDER_YEAR_CHANGE,
    REMINDER_YEAR_YES,
    VISIT_FOLLOWUP,
    CardKey,
)
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
    outage: bool = False  # late because the server was down (else it only says 稍晚送达)


def reminder_task_id(reminder_id: int, snooze_count: int) -> str:
    """One card per reminder version (a snooze makes a new card): rem{id}n{snooze}-{random}, unguessable like
    an approval card's, so a forged task id names nobody's card."""
    return f"rem{reminder_id}n{snooze_count}-{secrets.token_hex(6)}"


def is_current_card(task_id: str, *, reminder_id: int, snooze_count: int) -> bool:
    """Whether `task_id` is the card of this version of the reminder (also the form before random ids)."""
    version = f"rem{reminder_id}n{snooze_count}"
    return task_id == version or task_id.startswith(f"{version}-")


def _buttons() -> list[dict[str, Any]]:
    return [
        {"text": "已完成", "style": 1, "key": CardKey(REMINDER_DONE).pack()},
        {"text": "推迟1天", "style": 2, "key": CardKey(REMINDER_SNOOZE, "1d").pack()},
        {"text": "推迟1周", "style": 2, "key": CardKey(REMINDER_SNOOZE, "1w").pack()},
        {"text": "删除", "style": 2, "key": CardKey(REMINDER_CANCEL).pack()},
    ]


def reminder_card(view: ReminderView, *, task_id: str, replace_text: str | None = None) -> dict[str, Any]:
    """The card sent at due time; with `replace_text` the buttons turn grey (after a tap or when stale)."""
    title = "跟进提醒（补发）" if view.late and view.outage else "跟进提醒"
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": title, "desc": f"待办 #{view.id}"},
        "horizontal_content_list": [
            {"keyname": "事项", "value": escape.card(view.title, 60)},
            {"keyname": "客户", "value": escape.card(view.customer, 60)},
            {"keyname": "到期", "value": view.due_text},
        ],
        "task_id": task_id,
        "button_list": _buttons(),
    }
    if view.late:
        card["sub_title_text"] = "服务暂停期间到期，现在补发。" if view.outage else "稍晚送达。"
    if replace_text:
        card["replace_text"] = replace_text
    return card


@dataclass(frozen=True)
class OverdueItem:
    reminder_id: int
    owner_name: str
    title: str
    customer: str
    customer_id: int | None
    due_text: str


def escalation_line(item: OverdueItem) -> str:
    return f"{item.owner_name}：{item.title[:20]}（{item.customer[:16]}，到期 {item.due_text}，#{item.reminder_id}）"


def visit_followup_card(*, task_id: str, customer: str, summary: str, replace_text: str) -> dict[str, Any]:
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


def year_card(*, month: int, day: int, title: str, customer: str) -> dict[str, Any]:
    """A date already past this year is asked about: 是指明年 11月30日 吗？[是] [改日期]."""
    from cards.next_step import new_task_id

    return {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {
            "title": f"是指明年 {month}月{day}日 吗？",
            "desc": f"今年的{month}月{day}日已经过去了",
        },
        "sub_title_text": f"跟进「{title[:40]}」（{customer[:20]}）",
        "task_id": new_task_id("yr"),
        "button_list": [
            {"text": "是", "style": 1, "key": CardKey(REMINDER_YEAR_YES).pack()},
            {"text": "改日期", "style": 2, "key": CardKey(REMINDER_YEAR_CHANGE).pack()},
        ],
    }
