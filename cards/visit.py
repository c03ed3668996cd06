"""The visit confirmation card: what was recorded, with one-tap follow-up buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.keys import VISIT_FOLLOWUP, CardKey
from services import escape

FOLLOWUPS = (("明天跟进", "1d"), ("3天后跟进", "3d"), ("下周跟进", "1w"))


@dataclass(frozen=True)
class VisitView:
    visit_id: int
    customer_name: str
    summary: str
    location_label: str | None
    photos: int  # attached to the visit; they are downloaded after it is recorded


def task_id_for(visit_id: int) -> str:
    return f"visit-{visit_id}"


def _photos(view: VisitView) -> str:
    return f"{view.photos}张" if view.photos else "无"


def visit_card(view: VisitView) -> dict[str, Any]:
    summary = escape.card(view.summary, 151)
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "拜访已记录", "desc": escape.card(view.customer_name, 44)},
        "sub_title_text": summary,
        "horizontal_content_list": [
            {"keyname": "客户", "value": escape.card(view.customer_name, 30)},
            {"keyname": "位置", "value": escape.card(view.location_label or "未附位置", 30)},
            {"keyname": "照片", "value": _photos(view)},
        ],
        "task_id": task_id_for(view.visit_id),
        "button_list": [
            {"text": text, "style": 1 if i == 0 else 2, "key": CardKey(VISIT_FOLLOWUP, arg).pack()}
            for i, (text, arg) in enumerate(FOLLOWUPS)
        ],
    }
