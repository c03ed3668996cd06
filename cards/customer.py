"""Customer cards (pure): the question asked when a new customer's phone already belongs to another one."""

from __future__ import annotations

import secrets
from typing import Any

from cards.keys import CUSTOMER_CREATE_ANYWAY as CREATE_ANYWAY
from cards.keys import CUSTOMER_CREATE_CANCEL as CREATE_CANCEL
from cards.keys import CardKey
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
