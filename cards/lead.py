"""Lead cards (pure): the assignee's card (接单 / 转派 / 无效), its decided state, and the supervisor's 转派 card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.keys import (
    LEAD_ACCEPT,
    LEAD_INVALID,
    LEAD_TRANSFER,
    LEAD_TRANSFER_NO,
    LEAD_TRANSFER_OK,
    CardKey,
    valid_task_id,
)
from services import escape

SOURCE = {"desc": "销售助手", "desc_color": 1}
_VALUE_MAX = 26


@dataclass(frozen=True)
class LeadView:
    id: int
    company: str
    contact: str
    source: str
    note: str
    region: str
    version: int  # the assignment number: a re-assignment is a new card
    reassigned: bool = False


def lead_task_id(lead_id: int, version: int) -> str:
    task_id = f"lead{lead_id}v{version}"
    assert valid_task_id(task_id), task_id
    return task_id


def transfer_task_id(lead_id: int, version: int) -> str:
    return f"leadtr{lead_id}v{version}"


def _short(value: str) -> str:
    return escape.card(value or "—", _VALUE_MAX)


def lead_card(view: LeadView, *, outcome: str | None = None) -> dict[str, Any]:
    """The card to the assignee: no phone on the card (it comes with 接单, in the customer)."""
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {
            "title": "新线索（改派给您）" if view.reassigned else "新线索",
            "desc": f"线索 #{view.id}",
        },
        "sub_title_text": escape.card(view.company + (f"：{view.note}" if view.note else ""), 80),
        "horizontal_content_list": [
            {"keyname": "公司", "value": _short(view.company)},
            {"keyname": "联系人", "value": _short(view.contact)},
            {"keyname": "来源", "value": _short(view.source)},
            {"keyname": "区域", "value": _short(view.region)},
            {"keyname": "备注", "value": _short(view.note)},
        ],
        "task_id": lead_task_id(view.id, view.version),
        "button_list": [
            {"text": "接单", "style": 1, "key": CardKey(LEAD_ACCEPT).pack()},
            {"text": "转派", "style": 2, "key": CardKey(LEAD_TRANSFER).pack()},
            {"text": "无效", "style": 2, "key": CardKey(LEAD_INVALID).pack()},
        ],
    }
    if outcome is not None:
        card["replace_text"] = outcome
    return card


def transfer_card(
    *, lead_id: int, version: int, company: str, requester: str, target: str, outcome: str | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": {"title": "线索转派申请", "desc": f"线索 #{lead_id}"},
        "sub_title_text": f"{_short(requester)}申请把线索「{_short(company)}」转给{_short(target)}。",
        "horizontal_content_list": [
            {"keyname": "公司", "value": _short(company)},
            {"keyname": "申请人", "value": _short(requester)},
            {"keyname": "转给", "value": _short(target)},
        ],
        "task_id": transfer_task_id(lead_id, version),
        "button_list": [
            {"text": "同意", "style": 1, "key": CardKey(LEAD_TRANSFER_OK).pack()},
            {"text": "不同意", "style": 2, "key": CardKey(LEAD_TRANSFER_NO).pack()},
        ],
    }
    if outcome is not None:
        card["replace_text"] = outcome
    return card


def reminder_text(*, lead_id: int, company: str, hours: int) -> str:
    return f"线索 #{lead_id}「{escape.inline_text(company, 40)}」已分给您 {hours} 个工作小时，还没有接单。请在线索卡片上点「接单」，或「转派」「无效」。"


def reassigned_text(*, lead_id: int, company: str, hours: int) -> str:
    return f"线索 #{lead_id}「{escape.inline_text(company, 40)}」超过 {hours} 个工作小时未接单，已按规则改派给同事。"
