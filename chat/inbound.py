"""`Inbound`: one decrypted callback, normalised; wechatpy does not parse template_card_event, so we do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SelectedItem:
    question_key: str
    option_ids: tuple[str, ...]


@dataclass(frozen=True)
class Inbound:
    kind: str  # text | image | location | location_event | enter_agent | card_event | other
    userid: str  # FromUserName as sent (compare with models.norm_userid)
    corp_id: str
    agent_id: int | None
    create_time: int
    msg_id: str | None = None
    content: str = ""
    media_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    event: str | None = None
    event_key: str | None = None
    task_id: str | None = None
    card_type: str | None = None
    response_code: str | None = None
    selected: tuple[SelectedItem, ...] = ()
    raw_type: str = ""

    def dedup_key(self) -> str:
        """Sender + MsgId for messages; for events every discriminator (reliability.md A3), never just user+time.

        The sender is part of a message's key: WeCom has been seen giving two users' messages one MsgId, and
        a key without the sender would drop the second user's message as a retry (issue 16 #14).
        """
        agent = self.agent_id if self.agent_id is not None else ""
        if self.msg_id:
            return f"m:{agent}:{self.userid.lower()}:{self.msg_id}"[:512]
        parts = [
            "e",
            str(agent),
            self.userid.lower(),
            str(self.create_time),
            self.event or "",
            self.event_key or "",
            self.task_id or "",
            self.response_code or "",
        ]
        if self.latitude is not None:
            parts.append(f"{self.latitude:.6f},{self.longitude:.6f}")
        return ":".join(parts)[:512]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("#text", ""))
    return str(value)


def _float(value: Any) -> float | None:
    try:
        return float(_text(value))
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(_text(value))
    except (TypeError, ValueError):
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_selected(raw: Any) -> tuple[SelectedItem, ...]:
    """xmltodict gives a dict for one SelectedItem and a list for several; same for OptionId."""
    if not isinstance(raw, dict):
        return ()
    items = []
    for item in _as_list(raw.get("SelectedItem")):
        if not isinstance(item, dict):
            continue
        options = item.get("OptionIds") or {}
        ids = _as_list(options.get("OptionId")) if isinstance(options, dict) else []
        items.append(SelectedItem(_text(item.get("QuestionKey")), tuple(_text(i) for i in ids)))
    return tuple(items)


def from_dict(data: dict[str, Any]) -> Inbound:
    """Build an Inbound from the xmltodict dict of the decrypted plaintext `<xml>` element."""
    msg_type = _text(data.get("MsgType")).lower()
    event = _text(data.get("Event")) or None
    common: dict[str, Any] = {
        "userid": _text(data.get("FromUserName")),
        "corp_id": _text(data.get("ToUserName")),
        "agent_id": _int(data.get("AgentID")),
        "create_time": _int(data.get("CreateTime")) or 0,
        "msg_id": _text(data.get("MsgId")) or None,
        "raw_type": msg_type if msg_type != "event" else f"event:{event}",
    }
    if msg_type == "text":
        return Inbound(kind="text", content=_text(data.get("Content")), **common)
    if msg_type == "image":
        return Inbound(kind="image", media_id=_text(data.get("MediaId")) or None, **common)
    if msg_type == "location":
        return Inbound(
            kind="location",
            latitude=_float(data.get("Location_X")),
            longitude=_float(data.get("Location_Y")),
            label=_text(data.get("Label")) or None,
            **common,
        )
    if msg_type == "event":
        lowered = (event or "").lower()
        if lowered == "location":
            return Inbound(
                kind="location_event",
                event=event,
                latitude=_float(data.get("Latitude")),
                longitude=_float(data.get("Longitude")),
                **common,
            )
        if lowered == "enter_agent":
            return Inbound(
                kind="enter_agent", event=event, event_key=_text(data.get("EventKey")) or None, **common
            )
        if lowered in ("template_card_event", "template_card_menu_event"):
            return Inbound(
                kind="card_event",
                event=event,
                event_key=_text(data.get("EventKey")),
                task_id=_text(data.get("TaskId")),
                card_type=_text(data.get("CardType")) or None,
                response_code=_text(data.get("ResponseCode")) or None,
                selected=parse_selected(data.get("SelectedItems")),
                **common,
            )
        return Inbound(kind="other", event=event, event_key=_text(data.get("EventKey")) or None, **common)
    return Inbound(kind="other", **common)


def to_payload(msg: Inbound) -> dict[str, Any]:
    """A JSON-safe dict of the message, stored on the inbound row until a worker handles it."""
    data = {name: getattr(msg, name) for name in Inbound.__dataclass_fields__}
    data["selected"] = [
        {"question_key": s.question_key, "option_ids": list(s.option_ids)} for s in msg.selected
    ]
    return data


def from_payload(data: dict[str, Any]) -> Inbound:
    values: dict[str, Any] = {name: data.get(name) for name in Inbound.__dataclass_fields__ if name in data}
    values["selected"] = tuple(
        SelectedItem(item["question_key"], tuple(item["option_ids"])) for item in data.get("selected") or ()
    )
    return Inbound(**values)
