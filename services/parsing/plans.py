"""Payment plans in chat: ``30/60/10`` or ``8.4万/16.8万/2.8万``, and when each part falls due:
``签约后10天``, ``发货前``, ``验收后30天``, ``2026-12-31`` / ``12月31日``.

Pure functions: no database, no I/O. Errors are ``ParseError`` with a Chinese hint and an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from services.parsing.amounts import AmountError, parse_amount
from services.parsing.text import ParseError, normalize_text
from services.parsing.timeparse import TimeParseError, parse_when

EVENTS = ("签约", "发货", "安装", "验收")
DATE_EVENT = "date"
_EVENT_SYNONYMS = {
    "签订": "签约",
    "签合同": "签约",
    "到货": "发货",
    "出货": "发货",
    "交货": "发货",
    "调试": "安装",
    "验收合格": "验收",
    "终验": "验收",
}
_SPLIT = re.compile(r"[/／、|]")
_RULE = re.compile(
    r"^(?P<event>签约|签订|签合同|发货|到货|出货|交货|安装|调试|验收合格|验收|终验)(?P<dir>后|前|时|当天|当日)?(?:(?P<n>\d{1,3})(?:天|日|个?自然日))?$"
)
_DAYS_AFTER = re.compile(r"^(?P<n>\d{1,3})天(?:后|内)?$")
_CENT = Decimal("0.01")
PLAN_EXAMPLE = "例：分期 30/60/10 签约后10天/发货前/验收后30天，或 分期 8.4万/16.8万/2.8万 2026-12-31/发货后15天/验收后30天"


@dataclass(frozen=True)
class DueRule:
    """When an instalment falls due: a fixed date, or `offset_days` after (negative: before) an event."""

    event: str  # DATE_EVENT or one of EVENTS
    offset_days: int = 0
    on: date | None = None

    def text(self) -> str:
        if self.event == DATE_EVENT and self.on is not None:
            return f"{self.on:%Y-%m-%d}"
        if self.offset_days > 0:
            return f"{self.event}后{self.offset_days}天"
        if self.offset_days < 0:
            return f"{self.event}前{-self.offset_days}天"
        return "签约时" if self.event == "签约" else f"{self.event}时"


@dataclass(frozen=True)
class PlanPart:
    amount: Decimal
    percent: Decimal | None
    rule: DueRule


def parse_rule(text: str, *, now: datetime, tz: ZoneInfo) -> DueRule:
    raw = normalize_text(text).replace(" ", "")
    m = _RULE.match(raw)
    if m:
        event = _EVENT_SYNONYMS.get(m.group("event"), m.group("event"))
        n = int(m.group("n") or 0)
        if m.group("dir") == "前":
            n = -n
        elif m.group("dir") in (None, "时", "当天", "当日") and m.group("n"):
            raise ParseError(
                f"看不懂回款条件「{text}」：请写「{event}后{n}天」或「{event}前{n}天」。{PLAN_EXAMPLE}"
            )
        return DueRule(event=event, offset_days=n)
    m = _DAYS_AFTER.match(raw)
    if m:
        return DueRule(event="签约", offset_days=int(m.group("n")))
    try:
        when = parse_when(raw, now=now, tz=tz)
    except TimeParseError:
        raise ParseError(f"看不懂回款条件「{text}」。{PLAN_EXAMPLE}") from None
    return DueRule(event=DATE_EVENT, on=when.date())


def _percent(word: str) -> Decimal | None:
    raw = normalize_text(word).replace(" ", "").rstrip("%％")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def split_amounts(text: str, *, total: Decimal) -> list[tuple[Decimal, Decimal | None]]:
    """(amount, percent or None) per part. Percentages must add up to 100, amounts to `total`."""
    words = [w for w in _SPLIT.split(normalize_text(text).replace(" ", "")) if w]
    if not words:
        raise ParseError(f"请写上分期比例或金额。{PLAN_EXAMPLE}")
    if len(words) > 12:
        raise ParseError("最多分 12 期。")
    percents = [_percent(w) for w in words]
    has_sign = any("%" in w or "％" in w for w in words)
    # Plain numbers of at most 100 are percentages (30/60/10); anything with a unit (万, 元) is an amount.
    if all(p is not None and (has_sign or p <= 100) for p in percents):
        values = [p for p in percents if p is not None]
        if any(p <= 0 for p in values):
            raise ParseError(f"每期比例都要大于 0：{text}")
        if sum(values) != 100:
            raise ParseError(f"分期比例加起来是 {sum(values):g}%，应为 100%。{PLAN_EXAMPLE}")
        amounts = [(total * p / 100).quantize(_CENT, rounding=ROUND_HALF_UP) for p in values]
        amounts[-1] = total - sum(amounts[:-1])  # the last part takes the rounding
        return list(zip(amounts, values, strict=True))
    parsed: list[Decimal] = []
    for w in words:
        try:
            parsed.append(parse_amount(w))
        except AmountError:
            raise ParseError(
                f"看不懂分期「{w}」：请写比例（30/60/10）或金额（8.4万/16.8万/2.8万）。"
            ) from None
    if any(a <= 0 for a in parsed):
        raise ParseError(f"每期金额都要大于 0：{text}")
    if sum(parsed, Decimal(0)) != total:
        from services.parsing.amounts import format_amount

        raise ParseError(
            f"分期金额加起来是 {format_amount(sum(parsed, Decimal(0)))}，与合同金额 {format_amount(total)} 不符。"
        )
    return [(a, None) for a in parsed]


def parse_plan(
    amounts_text: str,
    rules_text: str | None,
    *,
    total: Decimal,
    now: datetime,
    tz: ZoneInfo,
    default_rules: list[DueRule],
) -> list[PlanPart]:
    """The parts of `分期 <amounts> [rules]`. Without rules, the configured default plan's rules are used
    when it has as many parts; otherwise the rules must be written."""
    parts = split_amounts(amounts_text, total=total)
    if rules_text:
        words = [w for w in _SPLIT.split(normalize_text(rules_text).strip()) if w.strip()]
        rules = [parse_rule(w, now=now, tz=tz) for w in words]
        if len(rules) != len(parts):
            raise ParseError(
                f"分了 {len(parts)} 期，但写了 {len(rules)} 个回款条件，要一一对应。{PLAN_EXAMPLE}"
            )
    elif len(default_rules) == len(parts):
        rules = list(default_rules)
    else:
        raise ParseError(f"分了 {len(parts)} 期，请为每期写上回款条件。{PLAN_EXAMPLE}")
    return [PlanPart(amount=a, percent=p, rule=r) for (a, p), r in zip(parts, rules, strict=True)]


def parse_day(text: str, *, now: datetime, tz: ZoneInfo) -> date:
    """A day in chat (``12月20日``, ``2026-12-20``, ``下周五``, ``明天``), local in ``tz``."""
    try:
        return parse_when(normalize_text(text).replace(" ", ""), now=now, tz=tz).date()
    except TimeParseError:
        raise ParseError(f"看不懂日期「{text}」，例如：12月20日、2026-12-20、下周五。") from None
