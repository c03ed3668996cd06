"""Pool cards (pure): the owner's countdown card, the supervisor's extension card, and the texts around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards.keys import (
    POOL_EXTEND,
    POOL_EXTEND_NO,
    POOL_EXTEND_OK,
    POOL_FOLLOWUP,
    POOL_RETURN,
    CardKey,
    valid_task_id,
)
from services import escape

QUESTION = "pool_customer"

SOURCE = {"desc": "销售助手", "desc_color": 1}
SHOWN = 6  # WeCom shows at most 6 horizontal_content_list rows


@dataclass(frozen=True)
class AtRisk:
    id: int
    name: str
    when: str  # e.g. "12-04（还有 3 个工作日）"
    reason: str  # e.g. "30天无跟进"


def countdown_task_id(owner_key: str, day: str) -> str:
    """One card per owner per day: `owner_key` is a short stable id of the owner (the users.id)."""
    task_id = f"pool{owner_key}d{day}"
    assert valid_task_id(task_id), task_id
    return task_id


def countdown_card(items: Sequence[AtRisk], *, task_id: str, outcome: str | None = None) -> dict[str, Any]:
    """The customers about to go to the pool, with 记一条跟进 / 申请延期 7 天 / 放回公海.

    With more than one customer the card carries a selection (real WeCom sends the choice with the tap; a
    client that does not, gets a numbered list to reply to).
    """
    rows = [
        {"keyname": escape.card(item.name, 12), "value": f"{item.when} {item.reason}"[:30]}
        for item in items[:SHOWN]
    ]
    more = f"等 {len(items)} 个客户" if len(items) > SHOWN else f"{len(items)} 个客户"
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": "客户即将回收到公海", "desc": more},
        "sub_title_text": "记一条跟进即可重新计时；确实不跟了可以放回公海。",
        "horizontal_content_list": rows,
        "task_id": task_id,
        "button_list": [
            {"text": "记一条跟进", "style": 1, "key": CardKey(POOL_FOLLOWUP).pack()},
            {"text": "申请延期7天", "style": 2, "key": CardKey(POOL_EXTEND).pack()},
            {"text": "放回公海", "style": 2, "key": CardKey(POOL_RETURN).pack()},
        ],
    }
    if len(items) > 1:
        card["button_selection"] = {
            "question_key": QUESTION,
            "title": "客户",
            "option_list": [{"id": str(item.id), "text": escape.card(item.name, 16)} for item in items[:10]],
            "selected_id": str(items[0].id),
        }
    if outcome is not None:
        card["replace_text"] = outcome
    return card


def extension_task_id(ext_id: int) -> str:
    return f"poolext{ext_id}"


def extension_card(
    *,
    ext_id: int,
    customer: str,
    requester: str,
    release: str,
    days: int,
    used: int,
    limit: int,
    outcome: str | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": "公海回收延期申请", "desc": f"延期 {days} 天"},
        "sub_title_text": f"{escape.card(requester, 16)}申请把「{escape.card(customer, 20)}」的回收延后 {days} 天。",
        "horizontal_content_list": [
            {"keyname": "客户", "value": escape.card(customer, 26)},
            {"keyname": "申请人", "value": escape.card(requester, 26)},
            {"keyname": "原回收日", "value": release},
            {"keyname": "本季度", "value": f"第 {used} 次（上限 {limit} 次）"},
        ],
        "task_id": extension_task_id(ext_id),
        "button_list": [
            {"text": "同意", "style": 1, "key": CardKey(POOL_EXTEND_OK).pack()},
            {"text": "驳回", "style": 2, "key": CardKey(POOL_EXTEND_NO).pack()},
        ],
    }
    if outcome is not None:
        card["replace_text"] = outcome
    return card


def released_text(names: Sequence[str], *, block_days: int) -> str:
    shown = "、".join(f"「{escape.inline_text(n, 30)}」" for n in names[:10]) + (
        f" 等 {len(names)} 个" if len(names) > 10 else ""
    )
    again = f"{block_days} 天后可以" if block_days else "可以"
    return f"以下客户长期未跟进，今天已回收到公海：{shown}。如仍需跟进，{again}发送「公海」查看并重新领取。"
