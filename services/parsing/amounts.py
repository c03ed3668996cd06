"""Money amounts in chat: ``80000``, ``8万``, ``8.5万元``, ``¥120,000``, ``十二万五千``, ``1.2亿``.

Pure functions: no database, no I/O. Amounts are ``Decimal`` with at most 2 decimals, always in CNY.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

from services.parsing.text import ParseError, normalize_text

__all__ = ["MAX_AMOUNT", "AmountError", "format_amount", "parse_amount"]

# The database column is Numeric(14, 2).
MAX_AMOUNT = Decimal("999999999999.99")
_CENT = Decimal("0.01")

_EXAMPLES = "例如：80000、8万、8.5万元、¥120,000、￥120,000.50、十二万五千、1.2亿"


class AmountError(ParseError):
    """An amount that cannot be read; ``hint`` is a Chinese message with examples."""


_MULTIPLIERS: dict[str, Decimal] = {
    "": Decimal(1),
    "百": Decimal(100),
    "千": Decimal(1000),
    "k": Decimal(1000),
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "亿": Decimal(100_000_000),
}

_CURRENCY_PREFIX_RE = re.compile(r"^(?:¥|rmb|cny|人民币)")
_CURRENCY_SUFFIX_RE = re.compile(r"(?:元整|元|圆|块钱|块|rmb|cny|人民币)$")
# 80000 / 120,000 / 120,000.50 / 8.5 followed by an optional unit (万, 亿, k, w, ...).
_ARABIC_RE = re.compile(
    r"^(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>[百千万亿kw]?)$", re.ASCII
)
# Chinese numerals, possibly mixed with digits the colloquial way (3万5千, 8万5).
_CHINESE_RE = re.compile(r"^[0-9零〇一二两三四五六七八九十百千万亿点]+$")
# 一点五万, 一千二百三十四点五六: digits after 点 are read one by one.
_CHINESE_DECIMAL_RE = re.compile(
    r"^(?P<num>[零〇一二两三四五六七八九十百千]+点[零〇一二三四五六七八九]+)(?P<unit>[万亿]?)$"
)


def _fail(text: str, reason: str = "") -> AmountError:
    shown = text.strip() or "（空）"
    lead = f"金额“{shown}”{reason}" if reason else f"看不懂金额“{shown}”"
    return AmountError(f"{lead}。请写正数金额，最多两位小数，{_EXAMPLES}")


def _cn2an(body: str) -> Decimal | None:
    try:
        value = cn2an.cn2an(body, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    # cn2an returns a float for "一点五"; go through str to avoid binary noise.
    return Decimal(str(value))


def _chinese_to_decimal(body: str) -> Decimal | None:
    if "点" not in body:
        return _cn2an(body)
    # cn2an reads neither "五点五万" nor rejects "5点": handle the decimal form ourselves.
    m = _CHINESE_DECIMAL_RE.match(body)
    if m is None:
        return None
    value = _cn2an(m["num"])
    return None if value is None else value * _MULTIPLIERS[m["unit"]]


def parse_amount(text: str) -> Decimal:
    """Parse a positive CNY amount; returns a Decimal quantised to cents (``Decimal("80000.00")``).

    Accepts an optional currency mark (``¥``/``￥``/``RMB``/``CNY``/``人民币``, ``元``/``块``), thousands
    separators in groups of three, full-width digits, the units 百/千/万/亿 (and chat shorthands ``k``
    = 千, ``w`` = 万) and Chinese numerals (``三十万``, ``十二万五千``, ``3万5千``).
    Raises :class:`AmountError` for zero, negative, more than 2 decimals, above ``MAX_AMOUNT`` or garbage.
    """
    body = normalize_text(text).lower().replace(" ", "")
    if body.startswith(("-", "负")):
        raise _fail(text, "不能为负数")
    body = _CURRENCY_PREFIX_RE.sub("", body)
    body = _CURRENCY_SUFFIX_RE.sub("", body)
    if not body:
        raise _fail(text)

    value: Decimal | None
    if m := _ARABIC_RE.match(body):
        try:
            value = Decimal(m["num"].replace(",", "")) * _MULTIPLIERS[m["unit"]]
        except InvalidOperation:  # pragma: no cover - the regex only lets valid numbers through
            value = None
    elif _CHINESE_RE.match(body):
        value = _chinese_to_decimal(body)
    else:
        value = None
    if value is None:
        raise _fail(text)

    if value <= 0:
        raise _fail(text, "必须大于0")
    if value != value.quantize(_CENT):
        raise _fail(text, "最多只能有两位小数")
    if value > MAX_AMOUNT:
        raise _fail(text, "太大了")
    return value.quantize(_CENT)


def format_amount(d: Decimal) -> str:
    """``¥80,000`` for whole yuan, ``¥85,000.50`` otherwise (rounded half-up to cents)."""
    q = d.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    q = abs(q)
    body = f"{q:,.0f}" if q == q.to_integral_value() else f"{q:,.2f}"
    return f"{sign}¥{body}"
