"""Pure parsing of chat input: times, amounts, phone numbers, free text. No database, no I/O.

Every error is a :class:`ParseError` (a ``chat.errors.DomainError``) whose ``hint`` (also its
``message``) is a Chinese sentence with examples, fit to show to the user as it is.
"""

from services.parsing.amounts import MAX_AMOUNT, AmountError, format_amount, parse_amount
from services.parsing.phones import PhoneError, normalize_phone
from services.parsing.text import (
    LEGAL_FORM_SUFFIXES,
    ParseError,
    normalize_name,
    normalize_text,
    parse_kv_pairs,
    split_args,
)
from services.parsing.timeparse import (
    DEFAULT_TIME,
    SHANGHAI,
    TimeParseError,
    format_when,
    is_past,
    parse_when,
    parse_when_prefix,
)

__all__ = [
    "DEFAULT_TIME",
    "LEGAL_FORM_SUFFIXES",
    "MAX_AMOUNT",
    "SHANGHAI",
    "AmountError",
    "ParseError",
    "PhoneError",
    "TimeParseError",
    "format_amount",
    "format_when",
    "is_past",
    "normalize_name",
    "normalize_phone",
    "normalize_text",
    "parse_amount",
    "parse_kv_pairs",
    "parse_when",
    "parse_when_prefix",
    "split_args",
]
