"""Approval cards: pure builders of the template_card dicts (no database, no I/O)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards.keys import QUOTE_APPROVE, QUOTE_REJECT, QUOTE_REQUOTE, CardKey, valid_task_id
from services import escape

OUTCOME_APPROVED = "已同意"
OUTCOME_REJECTED = "已驳回"
OUTCOME_WITHDRAWN = "已撤回"
OUTCOME_DONE = "已处理"

_VALUE_MAX = 26


@dataclass(frozen=True)
class ApprovalCardInfo:
    quote_id: int
    customer: str
    opportunity: str
    amount: str  # already formatted, e.g. "¥80,000"
    requester: str
    note: str
    score: str  # e.g. "75分 / A", or "未评分" (see `score_text`)
    step: int
    steps: int
    role_label: str


def score_text(score: int | None, priority: str | None, items: Sequence[str] | None) -> str:
    """ "75分 / A"; an opportunity nobody has scored yet (0 points, no items) is 未评分, not "0分 / C"."""
    if not score and not items:
        return "未评分"
    return f"{score or 0}分 / {priority}" if priority else f"{score or 0}分"


def task_id_for(quote_id: int, seq: int, suffix: str = "", *, token: str | None = None) -> str:
    """q{quote}s{seq}[suffix]-{random}; suffix tells reminder (r2) and delegate (d5) copies apart.

    The random part makes task ids unguessable (issue 16 #12): a forged id names no card of anybody's.
    """
    task_id = f"q{quote_id}s{seq}{suffix}-{token or secrets.token_hex(6)}"
    assert valid_task_id(task_id), task_id
    return task_id


def _short(value: str) -> str:
    return escape.card(value or "—", _VALUE_MAX)


def approval_card(
    info: ApprovalCardInfo, *, task_id: str, headline: str = "报价审批", outcome: str | None = None
) -> dict[str, Any]:
    """The card for the current approver; with `outcome` it is the greyed, decided variant (replace_text)."""
    if not valid_task_id(task_id):
        raise ValueError(f"invalid task_id {task_id!r}")
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "销售助手"},
        "main_title": {
            "title": headline if outcome is None else f"报价审批 · {outcome}",
            "desc": f"步骤 {info.step}/{info.steps} · {info.role_label}",
        },
        "sub_title_text": f"报价 #{info.quote_id}：{escape.card(info.customer, 60)} · {info.amount}",
        "horizontal_content_list": [
            {"keyname": "客户", "value": _short(info.customer)},
            {"keyname": "商机", "value": _short(info.opportunity)},
            {"keyname": "金额", "value": _short(info.amount)},
            {"keyname": "申请人", "value": _short(info.requester)},
            {"keyname": "说明", "value": _short(info.note)},
            {"keyname": "评分", "value": _short(info.score)},
        ],
        "task_id": task_id,
        "button_list": [
            {"text": "同意", "style": 1, "key": CardKey(QUOTE_APPROVE).pack()},
            {"text": "驳回", "style": 2, "key": CardKey(QUOTE_REJECT).pack()},
        ],
    }
    if outcome is not None:
        card["replace_text"] = outcome
    return card


def decided_card(info: ApprovalCardInfo, *, task_id: str, outcome: str) -> dict[str, Any]:
    return approval_card(info, task_id=task_id, outcome=outcome)


def requote_task_id(quote_id: int) -> str:
    return f"q{quote_id}rej"


def rejected_card(text: str, *, task_id: str, replace_text: str | None = None) -> dict[str, Any]:
    """The requester's rejection notice; its next step is a button: 重新报价."""
    lines = text.split("\n")
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "销售助手", "desc_color": 0},
        "main_title": {"title": "报价未通过", "desc": lines[0][:44]},
        "sub_title_text": "\n".join(lines)[:160],
        "task_id": task_id,
        "button_list": [{"text": "重新报价", "style": 1, "key": CardKey(QUOTE_REQUOTE).pack()}],
    }
    if replace_text:
        card["replace_text"] = replace_text
    return card
