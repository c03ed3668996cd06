"""Output encoding: one helper per format that user text can reach (text, markdown, card, spreadsheet).

Users type names, notes and titles that other people later read. Each format has its own live syntax:
WeCom renders `<a href>` in *text* messages, links/`<font>`/headings in *markdown*, and a spreadsheet turns a
cell beginning with `=` into a formula. Anything a user typed is passed through the helper for the format
it is placed in; our own markup is written around the escaped values, never through them.

The replacements are the full-width look-alikes (＜ ［ ＊ …), so the text stays readable in Chinese and no
entity decoding on WeCom's side is relied upon.
"""

from __future__ import annotations

import re

# A `<` that could open a tag, a closing tag, a comment or a DTD; `<编号>` or `a < b` stay as typed.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = str.maketrans(
    {
        "<": "＜",
        ">": "＞",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "`": "｀",
        "#": "＃",
        "_": "＿",
        "~": "～",
        "|": "｜",
        "\\": "＼",
    }
)
# OWASP CSV/formula injection: a cell starting with one of these is a formula in Excel/LibreOffice/WPS.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def text(value: object) -> str:
    """For a WeCom text message: no tag can open (WeCom renders `<a href>`); controls dropped."""
    return _TAG_OPEN.sub("＜", _CONTROL.sub("", str(value)))


def inline_text(value: object, limit: int | None = None) -> str:
    """A user value placed inside one line of a text message: `text` plus newlines folded and a length cap."""
    out = " ".join(text(value).split())
    return _cut(out, limit)


def markdown(value: object, limit: int | None = None) -> str:
    """For WeCom markdown: every character with markdown/HTML meaning replaced, one line, optional cap."""
    out = " ".join(_CONTROL.sub("", str(value)).split()).translate(_MARKDOWN)
    return _cut(out, limit)


def card(value: object, limit: int | None = None) -> str:
    """For a template-card field: plain text on one line, no tag, within the field's length limit."""
    out = " ".join(text(value).split())
    return _cut(out, limit)


def cell(value: str) -> tuple[str, bool]:
    """(value, must_be_text) for a spreadsheet cell: a value that would start a formula is stored as text."""
    clean = _CONTROL.sub("", value) if value else value
    return clean, bool(clean) and clean.startswith(FORMULA_START)


def _cut(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + "…"
