"""The proposal card (pure): what a free-form message will record, in plain words, with 确认 / 修改 / 取消.

Nothing on it authorises anything: the keys only pick the action; the proposal row (by task_id) says whose
it is and what it will run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cards.keys import PROPOSAL_CANCEL, PROPOSAL_CONFIRM, PROPOSAL_CONFIRM_ONLY, PROPOSAL_EDIT, CardKey
from services import escape

SOURCE = {"desc": "销售助手", "desc_color": 1}


@dataclass(frozen=True)
class ProposalView:
    """`title` says the action (记录拜访); `fields` are (label, value) in the order shown; `note` is the text
    that will be stored as typed; `followup` the reminder offered with it (shown, and a button to skip it)."""

    title: str
    fields: tuple[tuple[str, str], ...]
    note: str = ""
    followup: str = ""
    question: str = ""  # e.g. 是要记录拜访吗？ for a mistyped command word
    warnings: tuple[str, ...] = field(default=())
    reads: bool = False  # the command only shows something (客户 #12): no 保存 on the card, no 修改

    def to_data(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "fields": [list(f) for f in self.fields],
            "note": self.note,
            "followup": self.followup,
            "question": self.question,
            "warnings": list(self.warnings),
            "reads": self.reads,
        }

    @staticmethod
    def from_data(data: dict[str, Any]) -> ProposalView:
        return ProposalView(
            title=str(data.get("title", "")),
            fields=tuple((str(k), str(v)) for k, v in data.get("fields") or ()),
            note=str(data.get("note", "")),
            followup=str(data.get("followup", "")),
            question=str(data.get("question", "")),
            warnings=tuple(str(w) for w in data.get("warnings") or ()),
            reads=bool(data.get("reads")),
        )


def proposal_task_id(proposal_id: int) -> str:
    return f"prop-{proposal_id}"


def _clip(text: str, limit: int) -> str:
    """A value the user typed (or a record's name), as a card field: escaped, one line, within `limit`."""
    return escape.card(text, limit)


def _body(view: ProposalView) -> dict[str, Any]:
    sub = [view.question] if view.question else []
    if view.note:
        sub.append(f"纪要：{_clip(view.note, 120)}" if view.title == "记录拜访" else _clip(view.note, 120))
    sub += list(view.warnings)
    items = [{"keyname": k, "value": _clip(v, 40)} for k, v in view.fields if v][:5]
    if view.followup:
        items.append({"keyname": "同时设跟进", "value": _clip(view.followup, 40)})
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": SOURCE,
        "main_title": (
            {"title": view.title[:26], "desc": "点「确认」查看"}
            if view.reads
            else {"title": f"请确认：{view.title}"[:26], "desc": "点「确认」后才会保存"}
        ),
        "horizontal_content_list": items,
    }
    if sub:
        card["sub_title_text"] = "\n".join(escape.text(line) for line in sub)[:160]
    return card


def proposal_card(view: ProposalView, *, proposal_id: int) -> dict[str, Any]:
    card = _body(view)
    card["task_id"] = proposal_task_id(proposal_id)
    buttons = [{"text": "确认", "style": 1, "key": CardKey(PROPOSAL_CONFIRM).pack()}]
    if view.followup:
        buttons.append({"text": "只记拜访", "style": 2, "key": CardKey(PROPOSAL_CONFIRM_ONLY).pack()})
    if not view.reads:
        buttons.append({"text": "修改", "style": 2, "key": CardKey(PROPOSAL_EDIT).pack()})
    buttons.append({"text": "取消", "style": 2, "key": CardKey(PROPOSAL_CANCEL).pack()})
    card["button_list"] = buttons
    return card


def decided_card(view: ProposalView, *, proposal_id: int, outcome: str) -> dict[str, Any]:
    """The same card with its buttons greyed and the outcome (已确认 / 已取消 / 修改中 / 未能保存)."""
    card = proposal_card(view, proposal_id=proposal_id)
    card["main_title"] = {"title": view.title[:26], "desc": outcome}
    card["replace_text"] = outcome
    return card
