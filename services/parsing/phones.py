"""Chinese phone numbers: mobiles, landlines with area code, 400 service numbers.

Pure functions: no database, no I/O. The normal forms are what we store and match duplicates on:

* mobile: 11 digits, ``13800000007`` (country code dropped);
* landline: ``<area code>-<local>``, ``010-12345678`` / ``0755-88886666``; an extension is kept as a
  third dash group, ``010-12345678-123`` (normalising that again gives the same string);
* 400 service number: 10 digits, ``4001234567``.
"""

from __future__ import annotations

import re

from services.parsing.text import ParseError, normalize_text

__all__ = ["PhoneError", "normalize_phone"]

_EXAMPLES = (
    "例如：13800000007、+86 138-0000-0007、010-12345678、(0755) 8888 6666、0571-8765432转123、400-123-4567"
)


class PhoneError(ParseError):
    """A phone number that cannot be read; ``hint`` is a Chinese message with examples."""


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# 010 and 02x have 3-digit area codes, every other area code is 0 + 3 digits; local numbers have 7-8
# digits and never start with 0.
_LANDLINE_RE = re.compile(r"^(?P<area>010|02\d|0[3-9]\d{2})(?P<local>[1-9]\d{6,7})$", re.ASCII)
_SERVICE_RE = re.compile(r"^400\d{7}$", re.ASCII)
_EXTENSION_RE = re.compile(r"^(?P<main>.+?)\s*(?:转|分机|ext\.?|x|#)\s*(?P<ext>\d{1,6})$", re.ASCII)
_SEPARATORS_RE = re.compile(r"[\s\-.()\u2010-\u2015]", re.ASCII)
_ALLOWED_RE = re.compile(r"^[+\d\s\-.()\u2010-\u2015]+$", re.ASCII)


def _fail(text: str) -> PhoneError:
    shown = text.strip() or "（空）"
    return PhoneError(f"看不懂电话号码“{shown}”。请写11位手机号、带区号的座机或400电话，{_EXAMPLES}")


def _landline(digits: str, ext: str | None) -> str | None:
    m = _LANDLINE_RE.match(digits)
    if m is None:
        return None
    number = f"{m['area']}-{m['local']}"
    return f"{number}-{ext}" if ext else number


def _split_country_code(main: str) -> tuple[bool, str]:
    """``(had an explicit +86/0086, the rest)``."""
    compact = _SEPARATORS_RE.sub("", main)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            return True, compact[len(prefix) :]
    return False, compact


def normalize_phone(text: str) -> str:
    """Normalise a mobile, landline or 400 number; raise :class:`PhoneError` for anything else.

    Accepts spaces, dashes, dots, parentheses, full-width characters, a ``+86``/``0086`` prefix (a bare
    ``86`` prefix only before a mobile number) and, for landlines only, an extension written ``转123``,
    ``分机123``, ``ext123``, ``x123``, ``#123`` or as a trailing ``-123`` after a separated local number.
    A landline after ``+86`` may drop its trunk 0 (``+86 10 12345678`` → ``010-12345678``).
    """
    s = normalize_text(text).lower()
    ext: str | None = None
    if m := _EXTENSION_RE.match(s):
        s, ext = m["main"], m["ext"]
    if not s or not _ALLOWED_RE.match(s) or "+" in _SEPARATORS_RE.sub("", s)[1:]:
        raise _fail(text)

    international, digits = _split_country_code(s)
    if not international and len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # "86 138 0000 0007": a bare 86 only before a mobile number

    if _MOBILE_RE.match(digits) or _SERVICE_RE.match(digits):
        if ext is not None:
            raise _fail(text)
        return digits

    # A trailing "-123" is an extension when the number before it is a valid landline on its own
    # (so "0571-8765432-1" keeps its 7-digit local number; "0755-8888-6666" is one number).
    if ext is None:
        head, sep, tail = s.rpartition("-")
        tail = tail.strip()
        if sep and head and tail.isdigit() and len(tail) <= 6:
            head_international, head_digits = _split_country_code(head)
            if head_international and not head_digits.startswith("0"):
                head_digits = "0" + head_digits
            if result := _landline(head_digits, tail):
                return result

    if international and not digits.startswith("0"):
        digits = "0" + digits
    if result := _landline(digits, ext):
        return result
    raise _fail(text)
