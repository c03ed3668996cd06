"""The next step as buttons (pure): a small card that ends an answer (客户 → 拜访 · 跟进 · 新商机, 商机 →
推进 · 评分; a long list's 更多 is cards/paging.py). A button only selects an action; the command it leads to
authorises itself."""

from __future__ import annotations

import uuid
from typing import Any

from cards.keys import NEXT_STEP, CardKey


def new_task_id(prefix: str = "nx") -> str:
    """A fresh task_id: WeCom wants one per card; these cards hold no state of their own."""
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def next_step_card(
    *, title: str, desc: str, buttons: list[tuple[str, CardKey]], task_id: str | None = None
) -> dict[str, Any]:
    return {
        "card_type": "button_interaction",
        "source": {"desc": "销售助手", "desc_color": 0},
        "main_title": {"title": title[:36], "desc": desc[:44]},
        "task_id": task_id or new_task_id(),
        "button_list": [
            {"text": text, "style": 1 if i == 0 else 2, "key": key.pack()}
            for i, (text, key) in enumerate(buttons[:6])
        ],
    }


def step_key(code: str, ref_id: int) -> CardKey:
    return CardKey(NEXT_STEP, f"{code}-{ref_id}")
