"""`Ask`: what the understanding step made of a message, in the conversation side's own plain form.

The engine (services/understanding) returns an `Understanding`; `Ask.of` copies the fields this side uses, so a
pick or a 修改 can store it in a dialog row (`to_data` / `from_data`) and rebuild it after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

WRITE_INTENTS = frozenset(
    {
        "visit",
        "followup",
        "new_customer",
        "new_opportunity",
        "advance",
        "score",
        "quote",
        "contract",
        "payment",
        "lost",
        "approve",
        "reject",
        "reassign",
        "lead",
    }
)


@dataclass(frozen=True)
class Ask:
    intent: str
    text: str = ""  # the part that becomes the note / title / name / reason
    source: str = ""  # the message as typed
    customer_ids: tuple[int, ...] = ()
    contact: str | None = None
    opportunity_ids: tuple[int, ...] = ()
    amount: Decimal | None = None
    when: datetime | None = None
    period: str | None = None
    stage: str | None = None
    person_userid: str | None = None
    quote_id: int | None = None
    contract_id: int | None = None  # a contract chosen from a numbered pick (a 回款 when several owe money)
    region: str | None = None
    command_typo: str | None = None
    items: tuple[str, ...] = ()  # score-card items that hold
    did_you_mean: bool = False  # a name matched only approximately: ask before acting
    mention: str | None = None  # the name as typed, when it resolved to nothing or only approximately
    command: str | None = None  # the command word, when the message was written as a command
    confidence: float = 1.0

    @property
    def writes(self) -> bool:
        return self.intent in WRITE_INTENTS

    @staticmethod
    def of(understood: Any, *, source: str) -> Ask:
        """From an engine `Understanding` (or anything with the same attribute names)."""
        values: dict[str, Any] = {}
        for f in fields(Ask):
            if f.name == "source":
                continue
            if hasattr(understood, f.name):
                values[f.name] = getattr(understood, f.name)
        values["intent"] = str(values.get("intent") or "unknown")
        values["customer_ids"] = tuple(values.get("customer_ids") or ())
        values["opportunity_ids"] = tuple(values.get("opportunity_ids") or ())
        values["items"] = tuple(values.get("items") or ())
        values["text"] = str(values.get("text") or "")
        if values.get("confidence") is None:
            values.pop("confidence", None)
        return Ask(source=source, **values)

    def but(self, **changes: Any) -> Ask:
        return replace(self, **changes)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    @staticmethod
    def from_data(data: dict[str, Any]) -> Ask:
        values = {f.name: data[f.name] for f in fields(Ask) if f.name in data}
        if values.get("amount") is not None:
            values["amount"] = Decimal(str(values["amount"]))
        if values.get("when"):
            values["when"] = datetime.fromisoformat(str(values["when"]))
        for name in ("customer_ids", "opportunity_ids", "items"):
            values[name] = tuple(values.get(name) or ())
        return Ask(**values)
