"""The visit confirmation card: what was recorded, with one-tap follow-up buttons."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cards.keys import VISIT_EXPLAIN, VISIT_FOLLOWUP, VISIT_REPEAT, CardKey
from services import escape

FOLLOWUPS = (("明天跟进", "1d"), ("3天后跟进", "3d"), ("下周跟进", "1w"))


@dataclass(frozen=True)
class VisitView:
    visit_id: int
    customer_name: str
    summary: str
    location_label: str | None
    photos: int  # attached to the visit; they are downloaded after it is recorded
    flag: str | None = None  # 距客户约 54 公里: the same flag the supervisor sees, with a one-tap explanation


def task_id_for(visit_id: int) -> str:
    """visit-{id}-{random}: unguessable like an approval card's, so a forged task id names nobody's card."""
    return f"visit-{visit_id}-{secrets.token_hex(6)}"


def _photos(view: VisitView) -> str:
    return f"{view.photos}张" if view.photos else "无"


EXPLAIN = (("在客户新厂区", "site"), ("其他地点，补充说明", "other"))
SITE_NOTE = "在客户新厂区"


def flag_text(distance_m: float | None) -> str:
    """What a flagged visit says, to the rep and the supervisor alike: 距客户约 54 公里."""
    return f"距客户约 {round((distance_m or 0) / 1000)} 公里"


def visit_card(view: VisitView, *, task_id: str) -> dict[str, Any]:
    summary = escape.card(view.summary, 151)
    card = _visit_card(view, summary, task_id)
    if view.flag:
        card["horizontal_content_list"].append({"keyname": "提示", "value": view.flag})
        card["button_list"] += [
            {"text": text, "style": 2, "key": CardKey(VISIT_EXPLAIN, arg).pack()} for text, arg in EXPLAIN
        ]
    return card


def repeat_card(*, customer_name: str, summary: str, task_id: str) -> dict[str, Any]:
    """The same visit text for the same customer within 10 minutes: asked, not stored twice."""
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "刚才已记录过相同的拜访，再记一次？", "desc": escape.card(customer_name, 44)},
        "sub_title_text": escape.card(summary, 151),
        "task_id": task_id,
        "button_list": [{"text": "再记一次", "style": 1, "key": CardKey(VISIT_REPEAT).pack()}],
    }


def _visit_card(view: VisitView, summary: str, task_id: str) -> dict[str, Any]:
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "拜访已记录", "desc": escape.card(view.customer_name, 44)},
        "sub_title_text": summary,
        "horizontal_content_list": [
            {"keyname": "客户", "value": escape.card(view.customer_name, 30)},
            {"keyname": "位置", "value": escape.card(view.location_label or "未附位置", 30)},
            {"keyname": "照片", "value": _photos(view)},
        ],
        "task_id": task_id,
        "button_list": [
            {"text": text, "style": 1 if i == 0 else 2, "key": CardKey(VISIT_FOLLOWUP, arg).pack()}
            for i, (text, arg) in enumerate(FOLLOWUPS)
        ],
    }
