"""Long lists page with 更多 (pure): the one page size, the one way to cut a page and the one 更多 card.

待办, a numbered pick (客户 with many matches), 公海 and the 我的客户 answer all page through here. A 更多 key
carries the next page's number and, where the list cannot be found again from the tapper alone, a short token
(`3.<token>`): the pick's id, or the 公海 keyword packed into key-safe characters. A tap re-reads the list in
the tapper's scope at that moment, so a page never shows what they may not see.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cards.keys import CardKey
from cards.next_step import next_step_card

PAGE_SIZE = 10
MAX_PAGE = 999
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 1-based
    start: int  # index of the page's first item in the whole list
    remaining: int  # items after this page

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.remaining else None


def page_of(items: Sequence[T], number: int = 1, *, size: int = PAGE_SIZE) -> Page[T]:
    """Page `number` of `items` (an out-of-range number gives an empty page with nothing remaining)."""
    number = max(1, number)
    start = (number - 1) * size
    shown = list(items[start : start + size])
    return Page(shown, number, start, max(len(items) - start - size, 0))


def more_key(action: str, number: int, token: str = "") -> CardKey:
    return CardKey(action, f"{number}.{token}" if token else str(number))


def read_more_key(arg: str) -> tuple[int, str]:
    """(page number, token) of a 更多 key's arg; page 0 when the arg is not one of ours."""
    head, _, token = arg.partition(".")
    if not head.isdigit() or not 1 < int(head) <= MAX_PAGE:
        return 0, ""
    return int(head), token


def more_card(
    page: Page[Any], *, action: str, what: str, token: str = "", unit: str = "条"
) -> dict[str, Any] | None:
    """The card under a page that has more after it (None on the last page): 还有N条待办 / 还有N个客户 [更多]."""
    if page.next_number is None:
        return None
    return next_step_card(
        title=f"还有{page.remaining}{unit}{what}",
        desc="点「更多」看下一页",
        buttons=[("更多", more_key(action, page.next_number, token))],
    )


def pack_text(text: str, *, room: int = 48) -> str | None:
    """`text` in key-safe characters (URL-safe base64 without padding); None when it does not fit in `room`."""
    packed = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    return packed if len(packed) <= room else None


def unpack_text(token: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
