"""The folded message (pure): several events for one person in one card, ending with 查看待办."""

from __future__ import annotations

from typing import Any

from cards.keys import TODO_OPEN, CardKey

SOURCE = {"desc": "销售助手", "desc_color": 0}
SUBTITLE_LIMIT = 160  # WeCom's advised sub_title_text length


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
