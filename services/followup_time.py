"""When a follow-up lands: relative times on working days and hours, past dates asked about, never moved.

The parser (services/parsing) reads what was typed; this module applies the assistant's rules on top:
- a relative day (明天, 后天, 3天后, 下周, the card buttons) lands on a working day — `N天后` counts N
  working days, so 3天后 on a Thursday is the next Tuesday — at the typed time, else the default (09:00);
  a day word with an explicit clock time (明天下午3点 on a Friday) is taken as asked;
- an hours-relative time (2小时后) that falls outside working hours moves to the next working morning;
- a month and day without a year that has already passed this year (11月30日 on 12月3日) is not silently
  moved to next year: the caller asks (`是指明年 11月30日 吗？`).
Working days are the approvals' calendar (config.approval: Mon–Fri, holidays, 调休 workdays).
Configurable: config.reminders.working_time_only, work_start, work_end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.config import BusinessConfig
from services.parsing import parse_when, parse_when_prefix

_RELATIVE_DAYS = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*(天|日)\s*后")
# A named weekday (下周六) is what the user chose; these are not, so they land on a working day.
_RELATIVE_WORDS = re.compile(r"明天|后天|大后天|下下?周(?![一二三四五六日天1-7])|\d+\s*周后|[一二两三]周后")
_HOURS = re.compile(r"(小时|分钟|钟头|刻钟)\s*[后以]")
_CLOCK = re.compile(r"\d{1,2}\s*[点时:：]|凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|晚间|[早晚](?![上饭])")
_YEARLESS_MD = re.compile(r"^\s*(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|[-/](\d{1,2}))")
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


@dataclass(frozen=True)
class Landing:
    """Where a typed time lands. `ask_year` is set when a yearless date had passed this year: `when` is
    then next year's date, to be confirmed by the user (never used silently)."""

    when: datetime
    moved: bool = False  # moved onto a working day/hour
    ask_year: bool = False


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return _CN_DIGITS.get(text)
    if text == "十":
        return 10
    if text.startswith("十") and len(text) == 2:
        return 10 + (_CN_DIGITS.get(text[1]) or 0)
    return None


def is_working_day(day: date, config: BusinessConfig) -> bool:
    return config.approval.is_working_day(day)


def next_working_day(day: date, config: BusinessConfig) -> date:
    for _ in range(366):
        if is_working_day(day, config):
            return day
        day += timedelta(days=1)
    return day


def add_working_days(day: date, n: int, config: BusinessConfig) -> date:
    for _ in range(n):
        day = next_working_day(day + timedelta(days=1), config)
    return day


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def on_working_time(when: datetime, config: BusinessConfig, *, keep_clock: bool, tz: ZoneInfo) -> datetime:
    """`when` moved to a working day (same clock when `keep_clock`), and into working hours otherwise."""
    cfg = config.reminders
    local = when.astimezone(tz)
    day = local.date()
    if not keep_clock:
        if local.time() >= cfg.work_end:
            return _at(next_working_day(day + timedelta(days=1), config), cfg.work_start, tz)
        if local.time() < cfg.work_start:
            return _at(next_working_day(day, config), cfg.work_start, tz)
    if is_working_day(day, config):
        return local
    target = next_working_day(day, config)
    return _at(target, local.time() if keep_clock else cfg.work_start, tz)


def land(
    expression: str, parsed: datetime, *, now: datetime, config: BusinessConfig, tz: ZoneInfo
) -> Landing:
    """Apply the rules to `parsed` (what the parser made of `expression`)."""
    typed = expression.strip()
    local_now = now.astimezone(tz)
    if match := _YEARLESS_MD.match(typed):
        month, day = int(match[1]), int(match[2] or match[3])
        try:
            this_year = date(local_now.year, month, day)
        except ValueError:
            this_year = None
        if (
            this_year is not None
            and this_year < local_now.date()
            and parsed.astimezone(tz).year > local_now.year
        ):
            return Landing(parsed, ask_year=True)
        return Landing(parsed)
    if not config.reminders.working_time_only:
        return Landing(parsed)
    explicit_clock = bool(_CLOCK.search(typed))
    if match := _RELATIVE_DAYS.search(typed):
        n = _count(match[1])
        if n is not None and n > 0:
            clock = parsed.astimezone(tz).time() if explicit_clock else config.reminders.default_time
            target = _at(add_working_days(local_now.date(), n, config), clock, tz)
            return Landing(target, moved=target != parsed)
    if _RELATIVE_WORDS.search(typed) and not explicit_clock:  # 明天下午3点 on a Friday is what was asked for
        target = on_working_time(parsed, config, keep_clock=True, tz=tz)
        return Landing(target, moved=target != parsed)
    if _HOURS.search(typed):
        target = on_working_time(parsed, config, keep_clock=False, tz=tz)
        return Landing(target, moved=target != parsed)
    return Landing(parsed)


def when_of(expression: str, *, now: datetime, config: BusinessConfig, tz: ZoneInfo) -> Landing:
    """Parse a whole expression and land it (TimeParseError for what cannot be read)."""
    return land(expression, parse_when(expression, now=now, tz=tz), now=now, config=config, tz=tz)


def when_prefix(text: str, *, now: datetime, config: BusinessConfig, tz: ZoneInfo) -> tuple[Landing, str]:
    """Like parse_when_prefix: (landing, the rest of the text)."""
    parsed, rest = parse_when_prefix(text, now=now, tz=tz)
    stripped = text.strip()
    typed = stripped[: len(stripped) - len(rest)].strip() if rest else stripped
    return land(typed, parsed, now=now, config=config, tz=tz), rest
