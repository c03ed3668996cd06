"""Values inside a sentence: amounts, times, quote numbers, periods, stages and score-card items.

Each finder returns the value and the span it came from, so the content left for a note or a title is the
message without them. Amounts and times are read by the same parsers the commands use
(services/parsing/amounts.py and timeparse.py); this module only finds where they are in a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.config import BusinessConfig
from services.parsing.amounts import parse_amount
from services.parsing.text import ParseError
from services.parsing.timeparse import parse_when

Span = tuple[int, int]


@dataclass(frozen=True)
class Found:
    value: object
    span: Span


# --- amounts -------------------------------------------------------------------------------------------

_NUM = r"[0-9零〇一二两三四五六七八九十百千万亿点.,]"
_AMOUNT_RE = re.compile(
    rf"(?P<pre>¥|￥|rmb|人民币)?\s*(?P<body>{_NUM}*[0-9零〇一二两三四五六七八九十]{_NUM}*)"
    r"\s*(?P<unit>[kw]|块钱|元整|元|块|圆)?(?P<hedge>左右|上下|出头|多)?",
)
_UNIT_CHARS = set("百千万亿")
_TIME_AFTER = re.compile(
    r"\s*(?:个)?(?:点|时|分|秒|天|日|号|周|星期|礼拜|月|年|小时|分钟|刻|人|台|套|条|家|次|个|位|%|％)"
)
_PHONE = re.compile(r"1\d{10}")


def find_amounts(text: str) -> list[Found]:
    """Money amounts: 35万, 十万左右, 19万5, ¥120,000, 80000元. Not times (3点, 3天后), not #12, not phones."""
    out: list[Found] = []
    for m in _AMOUNT_RE.finditer(text):
        body = m["body"].strip(".,点")
        if not body:
            continue
        start, end = m.start(), m.end()
        if start > 0 and text[start - 1] in "#＃周期第":
            continue
        has_unit = bool(_UNIT_CHARS & set(body)) or m["unit"] or m["pre"]
        if not has_unit:
            if not body.isdigit() or len(body) < 3 or _PHONE.fullmatch(body):
                continue
            if _TIME_AFTER.match(text, m.end("body")):
                continue
        elif not m["unit"] and _TIME_AFTER.match(text, m.end("body")) and not (_UNIT_CHARS & set(body[-1:])):
            continue
        raw = (m["pre"] or "") + body + (m["unit"] or "")
        try:
            value = parse_amount(raw)
        except ParseError:
            continue
        out.append(Found(value, (start, end)))
    return out


def first_amount(text: str) -> Found | None:
    found = find_amounts(text)
    return found[0] if found else None


# --- times ---------------------------------------------------------------------------------------------

_CN = "零〇一二两三四五六七八九十"
_DAY_WORDS = r"(?:大后天|后天|明天|今天|明早|明晚|今早|今晚|明日|今日|大前天|前天|昨天)"
_WEEKDAY = r"(?:(?:下下|下个?|这个?|本|上个?)?(?:周|星期|礼拜)[一二三四五六日天末1-7])"
_WEEK = r"(?:下下周|下个?周|下个?星期|下个?礼拜)"
_MONTH_POS = r"(?:(?:下下个?月|下个?月|本月|这个?月|\d{1,2}月|[" + _CN + r"]{1,3}月|月)(?:初|中旬|中|底|末))"
_DATE = rf"(?:\d{{4}}[-/.年]\d{{1,2}}[-/.月]\d{{1,2}}[日号]?|(?:\d{{1,2}}|[{_CN}]{{1,3}})月(?:\d{{1,2}}|[{_CN}]{{1,3}})[日号]?|(?:\d{{1,2}}|[{_CN}]{{1,3}})[日号](?!后))"
_LATER = rf"(?:(?:\d+|[{_CN}半]+)个?(?:天|日|周|星期|礼拜|月|小时|钟头|分钟)(?:以后|之后|后))"
_YEAR_END = r"(?:年底|年末)"
_PERIOD = r"(?:凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上)"
_CLOCK = rf"(?:\d{{1,2}}[:：]\d{{2}}|(?:\d{{1,2}}|[{_CN}]{{1,3}})[点时](?:半|一刻|三刻|(?:\d{{1,2}}|[{_CN}]{{1,3}})分?)?)"
_DATE_PART = rf"(?:{_DATE}|{_DAY_WORDS}|{_WEEKDAY}|{_WEEK}|{_MONTH_POS}|{_LATER}|{_YEAR_END})"
_TIME_RE = re.compile(
    rf"(?P<date>{_DATE_PART})?\s?(?P<period>{_PERIOD})?\s?(?P<clock>{_CLOCK})?",
)


_DEADLINE = re.compile(r"之前|以前|前(?!天)|之内|以内")


@dataclass(frozen=True)
class TimeFound:
    when: datetime
    span: Span
    has_date: bool
    text: str


def find_times(text: str, *, now: datetime, tz: ZoneInfo) -> list[TimeFound]:
    """Every time expression in a sentence, read by the command parser (下周三, 月底, 明天上午, 3天后)."""
    out: list[TimeFound] = []
    pos = 0
    while pos < len(text):
        m = _TIME_RE.search(text, pos)
        if m is None:
            break
        if m.end() == m.start() or not (m["date"] or m["period"] or m["clock"]):
            pos = m.start() + 1
            continue
        if m[0].startswith("下下") and m.start() > 0 and text[m.start() - 1] == "一":
            pos = m.start() + 1  # 约一下下周二: the particle 一下, then 下周二
            continue
        raw = m[0].strip()
        raw = re.sub(r"^这个?(?=(?:周|星期|礼拜))", "这", raw)
        raw = re.sub(r"^这个?月", "本月", raw)
        raw = raw.replace("中旬", "中")
        when = _parse(raw, now, tz)
        if when is None and m["clock"] and (m["date"] or m["period"]):
            # 明天3个人 → "明天3" does not read; the date alone does.
            raw = (m["date"] or "") + (m["period"] or "")
            when = _parse(raw, now, tz)
        if when is not None:
            end = m.end()
            if deadline := _DEADLINE.match(text, end):
                end = deadline.end()  # 下周五前 / 月底之前: the due is that day; the words are not the title
            out.append(TimeFound(when, (m.start(), end), bool(m["date"]), m[0]))
        pos = m.end()
    return out


def _parse(raw: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    if not raw:
        return None
    try:
        return parse_when(raw, now=now, tz=tz)
    except ParseError:
        return None


# --- periods, quote numbers, stages, score items -------------------------------------------------------

_PERIODS = (
    ("today", re.compile(r"今天|今日|今儿|日报")),
    ("week", re.compile(r"这周|本周|这个?星期|这个?礼拜|一周|这周末")),
    ("month", re.compile(r"这个?月|本月|当月|月度")),
)


def find_period(text: str) -> str | None:
    for name, pattern in _PERIODS:
        if pattern.search(text):
            return name
    return None


_QUOTE_ID = re.compile(r"[#＃]\s*(\d{1,9})|(?:报价|审批)(?:单|编号)\s*(\d{1,9})|(\d{1,9})\s*号(?:报价|审批)")


def find_quote_id(text: str) -> Found | None:
    m = _QUOTE_ID.search(text)
    if m is None:
        return None
    return Found(int(next(g for g in m.groups() if g)), m.span())


def find_stage(text: str, *, config: BusinessConfig) -> Found | None:
    """A configured stage named in the text (the longest one if several overlap)."""
    best: Found | None = None
    for stage in [*config.stages, config.lost_stage]:
        i = text.find(stage.lower())
        if i >= 0 and (best is None or len(stage) > best.span[1] - best.span[0]):
            best = Found(stage, (i, i + len(stage)))
    return best


# How a score-card item's predicate is said in chat. The item's noun must appear as written.
_PREDICATE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "明确": ("明确", "确定", "定了", "落实", "清楚", "批了", "批下来了", "有了"),
    "接触": ("接触", "见过", "见了", "见到", "聊过", "聊了", "谈过", "谈了", "联系上", "拜访过", "认识"),
    "未介入": ("未介入", "没介入", "没有竞品", "没竞品", "无竞品", "没有竞争", "没对手", "不在"),
    "确认": ("确认", "确定", "定了", "认可"),
    "有": ("有",),
}
_NEGATIONS = ("不", "没", "未", "无")


def _split_item(item: str) -> tuple[str, str]:
    """预算明确 → (预算, 明确); 决策人已接触 → (决策人, 接触); 竞品未介入 → (竞品, 未介入)."""
    for predicate in sorted(_PREDICATE_SYNONYMS, key=len, reverse=True):
        i = item.find(predicate, 1)
        if i > 0:
            return item[:i].rstrip("已"), predicate
    for marker in ("已", "未", "没", "有"):
        i = item.find(marker, 1)
        if i > 0:
            return item[:i], item[i:].lstrip("已")
    return item, ""


def find_score_items(text: str, *, config: BusinessConfig) -> list[Found]:
    """Score-card items that the text says hold: 预算已经明确了 → 预算明确; 决策人也见过了 → 决策人已接触."""
    out: list[Found] = []
    for card_item in config.score_card:
        item = card_item.item
        if item in text:
            i = text.index(item)
            out.append(Found(item, (i, i + len(item))))
            continue
        noun, predicate = _split_item(item)
        if len(noun) < 2 or noun not in text:
            continue
        i = text.index(noun)
        window = text[i + len(noun) : i + len(noun) + 10]
        window = re.split(r"[，,。；;！!？?]", window)[0]
        said = _PREDICATE_SYNONYMS.get(predicate, (predicate,) if predicate else ())
        hit = next((w for w in said if w and w in window), None)
        if hit is None:
            continue
        negative_item = predicate.startswith(_NEGATIONS)
        before = window[: window.index(hit)]
        if not negative_item and any(n in before for n in _NEGATIONS):
            continue
        out.append(Found(item, (i, i + len(noun) + window.index(hit) + len(hit))))
    return out
