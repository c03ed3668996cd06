"""Text normalisation helpers for chat commands and duplicate matching.

Pure functions: no database, no I/O. Also home of :class:`ParseError`, the base of every parsing error
in this package (it lives here because every other parsing module already imports this one).
"""

from __future__ import annotations

import re
import unicodedata

from chat.errors import DomainError

__all__ = [
    "LEGAL_FORM_SUFFIXES",
    "ParseError",
    "normalize_name",
    "normalize_text",
    "parse_kv_pairs",
    "split_args",
]


class ParseError(DomainError):
    """A user input that could not be parsed; ``hint`` is a Chinese message with examples."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


# Zero-width characters that sneak in through copy/paste; they are not whitespace for ``str.split``.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WS_RE = re.compile(r"\s+")

# Legal-form suffixes stripped by ``normalize_name``, longest first. ``集团有限公司`` needs no entry of
# its own: stripping ``有限公司`` from it leaves ``集团``, which is kept on purpose (a group and its
# subsidiary are different customers).
LEGAL_FORM_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限公司")

_KV_SEPARATORS = ("=", ":", "：", "＝")


def normalize_text(s: str) -> str:
    """NFKC-normalise (full-width ASCII and the ideographic space become half-width), drop zero-width
    characters, collapse runs of whitespace into one space and strip.

    Chinese punctuation without a half-width form (``。``, ``「」``, ``、``) is kept as it is.
    """
    s = unicodedata.normalize("NFKC", s)
    s = _INVISIBLE_RE.sub("", s)
    return _WS_RE.sub(" ", s).strip()


def _is_dropped_in_name(ch: str) -> bool:
    # All Unicode punctuation (P*: covers ()（）「」·,，.。-—、 and the like) and all whitespace.
    # Symbols (S*: + ¥ ® …) are kept: removing them could merge genuinely different names.
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def normalize_name(s: str) -> str:
    """A key for duplicate matching of company names (never shown to users).

    Conservative on purpose: ``normalize_text``, lower-case, remove all whitespace and punctuation, then
    strip ONE trailing legal-form suffix (``股份有限公司``, ``有限责任公司``, ``有限公司``; so
    ``集团有限公司`` keeps ``集团``). Nothing else is stripped: not ``公司`` alone, nor region words such
    as ``(中国)``/``深圳``, nor branch words such as ``分公司``. A name that is only a suffix is kept.

    >>> normalize_name("深圳市 华强（电子）股份有限公司") == normalize_name("深圳市华强(电子)有限公司")
    True
    """
    s = normalize_text(s).lower()
    s = "".join(ch for ch in s if not _is_dropped_in_name(ch))
    for suffix in LEGAL_FORM_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s


def split_args(s: str) -> list[str]:
    """Split a command line on runs of ASCII or full-width (U+3000) whitespace; no quoting."""
    return _INVISIBLE_RE.sub("", s).split()


def _split_kv(token: str) -> tuple[str, str] | None:
    positions = [i for i in (token.find(sep) for sep in _KV_SEPARATORS) if i >= 0]
    if not positions:
        return None
    i = min(positions)
    key, value = token[:i].strip(), token[i + 1 :].strip()
    # A key must be a field name: ``15:30`` (a time) or ``:x`` is not a pair.
    if not key or key.isdigit():
        return None
    return key, value


def parse_kv_pairs(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split tokens into ``字段=值`` pairs and the rest (kept in order).

    Separators: ``=``, ``:``, ``：``, ``＝``; the first one in a token wins, so ``备注=a:b`` gives
    ``{"备注": "a:b"}``. The value may be empty (``电话=``, e.g. to clear a field). A later duplicate key
    wins. Tokens whose key is empty or all digits (``15:30``) are not pairs and go to the rest.
    """
    pairs: dict[str, str] = {}
    rest: list[str] = []
    for token in tokens:
        kv = _split_kv(token)
        if kv is None:
            rest.append(token)
        else:
            pairs[kv[0]] = kv[1]
    return pairs, rest
