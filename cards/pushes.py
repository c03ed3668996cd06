"""The folded message (pure): several events for one person in one card, ending with 查看待办."""

from __future__ import annotations

import re
from typing import Any

from cards.keys import TODO_OPEN, CardKey

SOURCE = {"desc": "销售助手", "desc_color": 0}
SUBTITLE_LIMIT = 160  # WeCom's advised sub_title_text length
QUOTE_IN_TASK = re.compile(r"^q(\d+)s\d+")  # cards.approval.task_id_for


def fitting(lines: list[str], *, limit: int = SUBTITLE_LIMIT) -> int:
    """How many of `lines` (in order, numbered) fit the card's text; always at least one."""
    used, count = 0, 0
    for index, line in enumerate(lines):
        size = len(f"{index + 1}. {line}") + (1 if index else 0)
        if count and used + size > limit - 16:  # room for "另有N条，见待办"
            break
        used += size
        count += 1
    return max(count, 1)


def folded_card(lines: list[str], *, task_id: str, more: int = 0) -> dict[str, Any]:
    body = "\n".join(f"{i + 1}. {line}" for i, line in enumerate(lines))
    if more:
        body += f"\n另有{more}条，见「待办」"
    return {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": f"{len(lines) + more}条新消息", "desc": "合并为一条发送"},
        "sub_title_text": body[:SUBTITLE_LIMIT],
        "task_id": task_id,
        "button_list": [{"text": "查看待办", "style": 1, "key": CardKey(TODO_OPEN).pack()}],
    }


def _numbered(lines: list[str], more: int) -> str:
    body = "\n".join(f"{i + 1}. {line}" for i, line in enumerate(lines))
    if more:
        body += f"\n另有{more}条，见「待办」"
    return body[:SUBTITLE_LIMIT]


def approval_batch_card(first: dict[str, Any], lines: list[str], *, more: int = 0) -> dict[str, Any]:
    """Several quotes waiting on one approver in one card: the list, the first quote's own 同意 / 驳回 (the
    first card's task, so a tap is authorised as on that card) and 全部待批 (待办 hands over every card)."""
    quote = QUOTE_IN_TASK.match(str(first.get("task_id", "")))
    no = f" #{quote.group(1)}" if quote else ""
    return {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": f"{len(lines) + more}笔报价待您审批", "desc": "第1笔可直接处理"},
        "sub_title_text": _numbered(lines, more),
        "task_id": first["task_id"],
        "button_list": [
            *({**b, "text": f"{b['text']}{no}"} for b in first.get("button_list", [])[:2]),
            {"text": "全部待批", "style": 2, "key": CardKey(TODO_OPEN).pack()},
        ],
    }


def collection_batch_card(lines: list[str], *, task_id: str, more: int = 0) -> dict[str, Any]:
    """Several collection notices for one person in one card; each line names its contract, so the next step
    (回款 #合同 金额) is one message away, and 查看待办 lists the rest."""
    return {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": f"回款跟进 {len(lines) + more}笔", "desc": "收到后发送：回款 #合同 金额"},
        "sub_title_text": _numbered(lines, more),
        "task_id": task_id,
        "button_list": [{"text": "查看待办", "style": 1, "key": CardKey(TODO_OPEN).pack()}],
    }
