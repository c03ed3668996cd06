"""What a handler returns. Handlers never send: the dispatcher writes these to the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Text:
    content: str
    to: str | None = None  # None: the sender of the inbound message


@dataclass(frozen=True)
class Markdown:
    content: str
    to: str | None = None


@dataclass(frozen=True)
class Card:
    """A template card (dict built by a pure function in `cards/`); `card["task_id"]` must be set."""

    card: dict[str, Any]
    to: str | None = None


@dataclass(frozen=True)
class UpdateCard:
    """Replace the card the sender tapped, using that click's own response_code (single use).

    `fallback_text` is sent instead when the code has expired or was already used.
    """

    card: dict[str, Any]
    response_code: str
    fallback_text: str | None = None
    to: str | None = None


@dataclass(frozen=True)
class Image:
    """An image: raw PNG bytes are uploaded with media/upload at delivery time."""

    png: bytes = field(repr=False)
    filename: str = "chart.png"
    to: str | None = None


Reply = Text | Markdown | Card | UpdateCard | Image
