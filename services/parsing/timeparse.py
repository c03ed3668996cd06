"""Dates and times in chat (follow-up reminders): ``明天下午3点``, ``下周一``, ``3天后``, ``11月30日 10:00``. Long because
Chinese time expressions have many forms; one parser with its table of forms.

Pure functions: no database, no I/O; ``now`` and the local zone ``tz`` (Settings.salesbot_timezone) are
always passed in. Everything is read and returned as wall time in ``tz``. Chinese numerals are turned into digits by cn2an (``四点半`` → ``4点半``,
``十一月三十日`` → ``11月30日``); the grammar on top of that is ours and is covered by the tests.

Rules (the choices the tests pin down):

* A date without a time means 09:00 (``DEFAULT_TIME``). A period word alone means its default hour:
  早上 08:00, 上午 09:00, 中午 12:00, 下午 14:00, 傍晚 18:00, 晚上/今晚/明晚 20:00, 凌晨 06:00.
* 下午/傍晚/晚上 add 12 h to hours 1–11 (``晚上12点`` is midnight, i.e. 00:00 of the next day);
  中午 accepts 11–14 and reads 1–5 as 13–17; 上午/早上 accept 0–12; 凌晨 accepts 0–6 (12 = 0).
  Any other hour above 23 or minute above 59 is an error, except ``24点`` alone (00:00 next day).
  ``半`` is :30, ``一刻``/``三刻`` are :15/:45.
* An hour 1–6 written WITHOUT a period word and without a leading zero (``3点``, ``3点一刻``,
  ``3:15``) is read as afternoon (15:00, 15:15): nobody books a sales follow-up at 3 a.m.
  ``03:15`` (leading zero) stays 03:15, and hours 0 and 7–23 are read as written.
* A time without a date (``15:30``, ``晚上7点``, ``下午``) is today if still ahead of ``now``, else
  tomorrow.
* A bare weekday (``周五``/``星期五``/``礼拜五``) is the next such day strictly after today, except
  that it is today when today is that weekday AND a time (or period word) is given that is still
  ahead of ``now``. ``这周五``/``本周五`` is that day of the current Monday-based week (may be past);
  ``下周五`` is that day of next week, ``下下周五`` the week after. ``下周`` alone is next Monday.
* A date without a year (``11月30日``, ``11-30``) is this year, or next year if it is before today
  (today itself stays today, even if the time has passed). ``30号`` is this month, else the next
  month that has that day.
* Vague month positions ``月初`` (1st), ``月中`` (15th), ``月底``/``月末`` (last day) and
  ``年底`` (31 Dec) roll over to the next month/year when the resulting date-time is not after
  ``now``. ``本月底`` never rolls; ``下个月初``/``下个月底`` are the next month's.
* ``N分钟后``/``N小时后``/``半小时后`` are exact offsets from ``now``, truncated to the minute.
  ``N天后``/``N周后``/``N个月后`` are dates (09:00 unless a time follows; months clamp to the
  month's last day, 1月31日 + 1个月 = 2月28日).
* Past results are returned as they are (``今天上午9点`` at 10:00, ``这周一``, ``昨天``, ``前天下午3点``,
  ``3天前``, ``2小时前``); the caller decides what to do with them, with :func:`is_past` (a follow-up
  reminder answers that the time has passed rather than that it cannot read it).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import cn2an

from services.parsing.text import ParseError, normalize_text

__all__ = [
    "DEFAULT_TIME",
    "SHANGHAI",
    "TimeParseError",
    "format_when",
    "is_past",
    "parse_when",
    "parse_when_prefix",
]

# The default of Settings.salesbot_timezone, for the modules that do not take `tz` yet (docs/architecture.md).
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_TIME = time(9, 0)

_EXAMPLES = "明天下午3点、后天、下周一、周五上午10点、3天后、11月30日 10:00、2026-12-01、1小时后、下个月初"
_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# A time expression longer than this is not a time expression (``2026年12月31日 下午3点30分`` is 22).
_MAX_PREFIX = 40


class TimeParseError(ParseError):
    """A time that cannot be read; ``hint`` is a Chinese message with examples.

    ``reason`` is the specific problem (``没有25点``) when the text was shaped like a time, else "".
    """

    def __init__(self, hint: str, *, reason: str = "") -> None:
        super().__init__(hint)
        self.reason = reason


class _Reject(Exception):
    """Internal: the text is shaped like a time but its values are impossible (``25点``, ``13月``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hint(text: str, reason: str = "") -> str:
    shown = normalize_text(text) or "（空）"
    lead = f"时间“{shown}”有误：{reason}。" if reason else f"看不懂时间“{shown}”。"
    return f"{lead}可以这样写：{_EXAMPLES}"


# ---------------------------------------------------------------------------------------------------
# Normalisation: synonyms to one spelling, Chinese numerals to digits.

_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千"
_NUMERAL_RUN_RE = re.compile(f"[{_NUMERAL_CHARS}]+")
_WEEKDAY_DIGITS = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "日": "7",
    "天": "7",
    "末": "6",
}

# Applied in order, before the numerals are converted.
_SYNONYMS_BEFORE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"星期|礼拜", "周"),
        (r"今日", "今天"),
        (r"明日", "明天"),
        (r"昨日", "昨天"),
        (r"(今|明|昨)(早上|早晨|晚上|早|晚|晨)", r"\1天\2"),
        (r"天晨", "天早上"),
        (r"钟头", "小时"),
        (r"个(?=周|月|小时)", ""),  # 下个周五, 下个月初, 3个月后, 半个小时后 (not 1个半小时)
        (r"这周|本周", "这周"),
        (r"这月|本月", "本月"),
        (r"以后|之后", "后"),
        (r"(?<=[\d天周月时钟])(以前|之前)", "前"),  # 3天之前, 2小时以前 (not 周五之前: that is a deadline)
        (r"(点|时)(钟|整)", r"\1"),
        (r"(\d)t(\d)", r"\1 \2"),  # ISO 2026-12-01T14:00 (lower-cased)
        (r"(\d)\s+(?=[点时:])", r"\1"),  # 3 点
    )
)


def _weekday_digit(m: re.Match[str]) -> str:
    return "周" + _WEEKDAY_DIGITS[m[1]]


def _numeral_run(m: re.Match[str]) -> str:
    run = m[0]
    try:
        return str(cn2an.cn2an(run, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return run  # left as is: the grammar will not match it


def _prepare(text: str) -> str:
    s = normalize_text(text).lower()
    for pattern, repl in _SYNONYMS_BEFORE:
        s = pattern.sub(repl, s)
    # The weekday digit first, so that 周一十点 is 周1 10点 and not 周10点.
    s = re.sub(r"周([一二三四五六日天末])", _weekday_digit, s)
    s = _NUMERAL_RUN_RE.sub(_numeral_run, s)
    return re.sub(r"(\d)号", r"\1日", s)


# ---------------------------------------------------------------------------------------------------
# Grammar pieces. Each date pattern is tried at the start; then an optional period word, then an
# optional clock; spaces are allowed between the three parts.

_HOURS_MINUTES_LATER_RE = re.compile(
    r"^(?:(?P<hours>\d+(?:\.\d+)?)?(?P<half>个?半)?小时(?:(?P<hm>\d+)分钟?)?"
    r"|(?P<minutes>\d+)分钟?"
    r"|(?P<quarters>\d)刻钟)(?P<dir>后|前)$"
)

_D_YMD = re.compile(
    r"(?P<y>\d{4})(?:年(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日?|[-/.](?P<m2>\d{1,2})[-/.](?P<d2>\d{1,2}))"
)
_D_MONTH_POS = re.compile(r"(?P<m>\d{1,2})月(?P<pos>初|中|底|末)")
_D_MD = re.compile(r"(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日?|(?P<m2>\d{1,2})[-/](?P<d2>\d{1,2})(?!\d)")
_D_NAMED = re.compile(r"大后天|后天|明天|今天|昨天|大前天|前天")
# "N日前" is left alone: in a task it usually means "before the Nth", not N days ago.
_D_LATER = re.compile(r"(?P<n>\d+)(?:(?P<unit>天|日|周|月)(?P<dir>后)|(?P<unit_ago>天|周|月)(?P<dir_ago>前))")
_D_WEEKDAY = re.compile(r"(?P<which>下下|下|这|上)?周(?P<wd>[1-7])")
_D_WEEK = re.compile(r"(?P<which>下下|下)周(?![\d后])")
_D_REL_MONTH_POS = re.compile(r"(?:(?P<which>下下月|下月|本月)|月)(?P<pos>初|中|底|末)")
_D_REL_MONTH_DAY = re.compile(r"(?P<which>下下月|下月|本月)(?P<d>\d{1,2})日")
_D_DAY = re.compile(r"(?P<d>\d{1,2})日(?!后)")
_D_YEAR_END = re.compile(r"年底|年末")

_PERIOD_RE = re.compile(r"凌晨|清晨|早晨|早上|上午|中午|午间|午后|下午|傍晚|晚上|晚间|早|晚")
_PERIOD_KIND = {
    "凌晨": "early",
    "清晨": "am",
    "早晨": "am",
    "早上": "am",
    "早": "am",
    "上午": "am",
    "中午": "noon",
    "午间": "noon",
    "午后": "pm",
    "下午": "pm",
    "傍晚": "pm",
    "晚上": "night",
    "晚间": "night",
    "晚": "night",
}
_PERIOD_DEFAULT = {
    "凌晨": time(6, 0),
    "清晨": time(8, 0),
    "早晨": time(8, 0),
    "早上": time(8, 0),
    "早": time(8, 0),
    "上午": time(9, 0),
    "中午": time(12, 0),
    "午间": time(12, 0),
    "午后": time(14, 0),
    "下午": time(14, 0),
    "傍晚": time(18, 0),
    "晚上": time(20, 0),
    "晚间": time(20, 0),
    "晚": time(20, 0),
}

_CLOCK_COLON_RE = re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})(?!\d)")
_CLOCK_DIAN_RE = re.compile(r"(?P<h>\d{1,2})[点时](?:(?P<half>半)|(?P<q>\d)刻|(?P<m>\d{1,2})分?)?(?!\d)")

_WS_RE = re.compile(r"\s*")


@dataclass(frozen=True)
class _DatePart:
    day: date
    bare_weekday: bool = False  # "周五" that fell on today: today only if a later time today is given
    roll: str | None = None  # "month"/"year": vague position, roll over if not after now


@dataclass(frozen=True)
class _TimePart:
    at: time
    day_offset: int = 0  # 晚上12点 is 00:00 of the next day


# ---------------------------------------------------------------------------------------------------
# Calendar helpers.


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _month_start(d: date, months: int = 0) -> date:
    return _add_months(d.replace(day=1), months)


def _month_position(first: date, pos: str) -> date:
    if pos == "初":
        return first
    if pos == "中":
        return first.replace(day=15)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _make_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise _Reject(f"没有{month}月")
    try:
        return date(year, month, day)
    except ValueError:
        raise _Reject(f"{year}年没有{month}月{day}日") from None


def _yearless(today: date, month: int, day: int) -> date:
    """This year's month/day, or next year's when that is before today (or does not exist)."""
    if not 1 <= month <= 12:
        raise _Reject(f"没有{month}月")
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise _Reject(f"没有{month}月{day}日")


def _day_of_month(today: date, day: int) -> date:
    """Day ``day`` of this month, else of the next month that has it."""
    if not 1 <= day <= 31:
        raise _Reject(f"没有{day}号")
    for months in range(3):
        first = _month_start(today, months)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate >= today:
                return candidate
    raise _Reject(f"没有{day}号")  # pragma: no cover - some month within three has day <= 31


# ---------------------------------------------------------------------------------------------------
# Parsers for the parts; each returns (part, new position) or None.


def _parse_date(s: str, pos: int, today: date) -> tuple[_DatePart, int] | None:
    if m := _D_YMD.match(s, pos):
        month, day = (m["m1"], m["d1"]) if m["m1"] else (m["m2"], m["d2"])
        return _DatePart(_make_date(int(m["y"]), int(month), int(day))), m.end()
    if m := _D_MONTH_POS.match(s, pos):
        month = int(m["m"])
        if not 1 <= month <= 12:
            raise _Reject(f"没有{month}月")
        first = date(today.year, month, 1)
        if _month_position(first, "底") < today:
            first = date(today.year + 1, month, 1)
        return _DatePart(_month_position(first, m["pos"])), m.end()
    if m := _D_MD.match(s, pos):
        month, day = (m["m1"], m["d1"]) if m["m1"] else (m["m2"], m["d2"])
        return _DatePart(_yearless(today, int(month), int(day))), m.end()
    if m := _D_NAMED.match(s, pos):
        offset = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3, "昨天": -1, "前天": -2, "大前天": -3}[m[0]]
        return _DatePart(today + timedelta(days=offset)), m.end()
    if m := _D_LATER.match(s, pos):
        n, unit = (-int(m["n"]), m["unit_ago"]) if m["dir_ago"] else (int(m["n"]), m["unit"])
        if unit == "月":
            return _DatePart(_add_months(today, n)), m.end()
        return _DatePart(today + timedelta(days=n * (7 if unit == "周" else 1))), m.end()
    if m := _D_WEEKDAY.match(s, pos):
        weekday = int(m["wd"]) - 1
        if m["which"] is None:
            ahead = (weekday - today.weekday()) % 7
            return _DatePart(today + timedelta(days=ahead), bare_weekday=ahead == 0), m.end()
        weeks = {"上": -1, "这": 0, "下": 1, "下下": 2}[m["which"]]
        monday = today - timedelta(days=today.weekday())
        return _DatePart(monday + timedelta(days=7 * weeks + weekday)), m.end()
    if m := _D_WEEK.match(s, pos):
        weeks = {"下": 1, "下下": 2}[m["which"]]
        return _DatePart(today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks)), m.end()
    if m := _D_REL_MONTH_POS.match(s, pos):
        months = {None: 0, "本月": 0, "下月": 1, "下下月": 2}[m["which"]]
        part = _month_position(_month_start(today, months), m["pos"])
        return _DatePart(part, roll="month" if m["which"] is None else None), m.end()
    if m := _D_REL_MONTH_DAY.match(s, pos):
        months = {"本月": 0, "下月": 1, "下下月": 2}[m["which"]]
        first = _month_start(today, months)
        return _DatePart(_make_date(first.year, first.month, int(m["d"]))), m.end()
    if m := _D_DAY.match(s, pos):
        return _DatePart(_day_of_month(today, int(m["d"]))), m.end()
    if m := _D_YEAR_END.match(s, pos):
        return _DatePart(date(today.year, 12, 31), roll="year"), m.end()
    return None


def _adjust_hour(hour: int, period: str | None, *, leading_zero: bool) -> tuple[int, int]:
    """(24-hour clock hour, day offset) for an hour written with an optional period word."""
    if hour > 24 or (hour == 24 and period is not None):
        raise _Reject(f"没有{hour}点")
    kind = _PERIOD_KIND.get(period or "")
    if kind is None:
        if hour == 24:
            return 0, 1
        if 1 <= hour <= 6 and not leading_zero:
            return hour + 12, 0  # business hours: 3点 is 15:00
        return hour, 0
    if kind == "am":
        if hour > 12:
            raise _Reject(f"{period}没有{hour}点")
        return hour, 0
    if kind == "early":
        if hour == 12:
            return 0, 0
        if hour > 6:
            raise _Reject(f"{period}没有{hour}点")
        return hour, 0
    if kind == "noon":
        if 1 <= hour <= 5:
            return hour + 12, 0
        if 11 <= hour <= 14:
            return hour, 0
        raise _Reject(f"{period}没有{hour}点")
    if kind == "pm":
        if hour == 0:
            raise _Reject(f"{period}没有0点")
        return (hour + 12 if hour <= 11 else hour), 0
    # night
    if hour in (0, 12):
        return 0, 1
    return (hour + 12 if hour <= 11 else hour), 0


def _parse_clock(s: str, pos: int, period: str | None) -> tuple[_TimePart, int] | None:
    m = _CLOCK_COLON_RE.match(s, pos) or _CLOCK_DIAN_RE.match(s, pos)
    if m is None:
        return None
    groups = m.groupdict()
    if groups.get("half"):
        minute = 30
    elif groups.get("q"):
        minute = 15 * int(groups["q"])
    elif groups.get("m"):
        minute = int(groups["m"])
    else:
        minute = 0
    if minute > 59:
        raise _Reject(f"没有{minute}分")
    raw_hour = m["h"]
    hour, day_offset = _adjust_hour(
        int(raw_hour), period, leading_zero=len(raw_hour) == 2 and raw_hour[0] == "0"
    )
    return _TimePart(time(hour, minute), day_offset), m.end()


def _skip_ws(s: str, pos: int) -> int:
    m = _WS_RE.match(s, pos)
    return m.end() if m else pos


def _parse_prepared(s: str, now: datetime) -> datetime:
    today = now.date()

    if m := _HOURS_MINUTES_LATER_RE.match(s):
        hours = float(m["hours"] or 0) + (0.5 if m["half"] else 0)
        minutes = int(m["hm"] or 0) + int(m["minutes"] or 0) + 15 * int(m["quarters"] or 0)
        delta = timedelta(hours=hours, minutes=minutes)
        if delta <= timedelta(0):
            raise _Reject("时长必须大于0")
        return (now + delta if m["dir"] == "后" else now - delta).replace(second=0, microsecond=0)

    pos = 0
    date_part: _DatePart | None = None
    if found := _parse_date(s, pos, today):
        date_part, pos = found
        pos = _skip_ws(s, pos)
    period: str | None = None
    if m := _PERIOD_RE.match(s, pos):
        period, pos = m[0], _skip_ws(s, m.end())
    time_part: _TimePart | None = None
    if found_clock := _parse_clock(s, pos, period):
        time_part, pos = found_clock
    if pos != len(s) or (date_part is None and period is None and time_part is None):
        raise ValueError("not a time expression")

    explicit_time = time_part is not None or period is not None
    if time_part is None:
        time_part = _TimePart(_PERIOD_DEFAULT[period] if period else DEFAULT_TIME)

    def at(day: date) -> datetime:
        return datetime.combine(day + timedelta(days=time_part.day_offset), time_part.at, tzinfo=now.tzinfo)

    if date_part is None:  # time only: the next such time
        result = at(today)
        return result if result > now else at(today + timedelta(days=1))

    result = at(date_part.day)
    if date_part.bare_weekday and not (explicit_time and result > now):
        result = at(date_part.day + timedelta(days=7))
    elif date_part.roll == "month" and result <= now:
        first = _month_start(date_part.day, 1)
        pos_word = "初" if date_part.day.day == 1 else "中" if date_part.day.day == 15 else "底"
        result = at(_month_position(first, pos_word))
    elif date_part.roll == "year" and result <= now:
        result = at(date(today.year + 1, 12, 31))
    return result


# ---------------------------------------------------------------------------------------------------
# Public API.


def _local_now(now: datetime, tz: ZoneInfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """Parse a whole time expression as wall time in ``tz`` (the configured zone); return an aware datetime.

    ``now`` must be timezone-aware (any zone; it is converted to ``tz``). See the module
    docstring for the rules. Past results are returned; check with :func:`is_past`.
    Raises :class:`TimeParseError` with a Chinese hint and examples for anything unparseable.
    """
    local_now = _local_now(now, tz)
    try:
        return _parse_prepared(_prepare(text), local_now)
    except _Reject as e:
        raise TimeParseError(_hint(text, e.reason), reason=e.reason) from None
    except ValueError:
        raise TimeParseError(_hint(text)) from None


# Something the user probably meant as part of the time: "25点", "下午3点" left over after a prefix.
_TIME_LEFTOVER_RE = re.compile(rf"^(?:{_PERIOD_RE.pattern})?\s*[\d{_NUMERAL_CHARS}]+\s*[点时:：]")


def _is_cut_point(text: str, cut: int) -> bool:
    """Never split a number (``15:3|0``, ``三点十|五``) or cut right after a space."""
    if text[cut - 1].isspace():
        return False
    if cut == len(text):
        return True
    numeric = "0123456789０１２３４５６７８９" + _NUMERAL_CHARS
    return not (text[cut - 1] in numeric and text[cut] in numeric)


def parse_when_prefix(text: str, *, now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """Parse the longest time expression at the start of ``text``; return ``(when, rest)``.

    ``rest`` is the remaining original text, stripped: ``明天 下午3点 送样品`` gives
    (tomorrow 15:00, ``送样品``); ``明天下午3点送样品`` too. A time expression may contain spaces.
    Raises :class:`TimeParseError` when no prefix is a time, or when a longer prefix is a time with an
    impossible value or the rest starts with what looks like a time (``明天下午25点 送样品`` must not
    become 明天下午 + ``25点 送样品``).
    """
    local_now = _local_now(now, tz)
    text = text.lstrip()
    specific: TimeParseError | None = None  # the longest prefix that was a time with an impossible value
    for cut in range(min(len(text), _MAX_PREFIX), 0, -1):
        if not _is_cut_point(text, cut):
            continue
        head = text[:cut]
        try:
            when = parse_when(head, now=local_now, tz=tz)
        except TimeParseError as e:
            if e.reason and specific is None:
                specific = e
            continue
        if specific is not None:
            # A longer prefix was a time with an impossible value (明天下午3点61分): that is what
            # the user meant, do not fall back to a shorter one.
            raise specific
        tail = text[cut:]
        rest = tail.strip()
        if leftover := _TIME_LEFTOVER_RE.match(rest):
            # Let the whole thing fail with its specific reason (e.g. "没有25点").
            shown = text[: cut + len(tail) - len(tail.lstrip()) + leftover.end()]
            parse_when(shown, now=local_now, tz=tz)
            raise TimeParseError(_hint(shown))
        return when, rest
    if specific is not None:
        raise specific
    word = text.split(maxsplit=1)[0] if text.strip() else text
    raise TimeParseError(_hint(word))


def is_past(dt: datetime, now: datetime) -> bool:
    """True when ``dt`` is strictly before ``now`` (both aware)."""
    return dt < now


def format_when(dt: datetime, *, tz: ZoneInfo, now: datetime | None = None) -> str:
    """``11月28日(周六) 15:00``; with ``now`` given and a different year: ``2027年1月5日(周二) 09:00``.

    Shown in ``tz`` (the configured zone); a naive ``dt`` is taken as wall time there.
    """
    local = dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)
    text = f"{local.month}月{local.day}日({_WEEKDAY_NAMES[local.weekday()]}) {local:%H:%M}"
    if now is not None and _local_now(now, tz).year != local.year:
        text = f"{local.year}年{text}"
    return text
