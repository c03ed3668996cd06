"""services.parsing.timeparse: table-driven against fixed clocks in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat.errors import DomainError
from services.parsing import (
    SHANGHAI,
    TimeParseError,
    format_when,
    is_past,
    parse_when,
    parse_when_prefix,
)

# Friday 2026-11-27 10:00.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
# Thursday, New Year's Eve, late evening.
NYE = datetime(2026, 12, 31, 22, 0, tzinfo=SHANGHAI)
# Sunday 2027-01-31 10:00, a month end before a short February.
JAN31 = datetime(2027, 1, 31, 10, 0, tzinfo=SHANGHAI)
# Sunday 2028-02-27 10:00 (2028 is a leap year).
LEAP = datetime(2028, 2, 27, 10, 0, tzinfo=SHANGHAI)


def sh(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # relative days, 09:00 without a time
        ("今天", sh(2026, 11, 27)),
        ("明天", sh(2026, 11, 28)),
        ("明日", sh(2026, 11, 28)),
        ("后天", sh(2026, 11, 29)),
        ("大后天", sh(2026, 11, 30)),
        ("3天后", sh(2026, 11, 30)),
        ("三天后", sh(2026, 11, 30)),
        ("两天以后", sh(2026, 11, 29)),
        ("3日后", sh(2026, 11, 30)),
        ("一周后", sh(2026, 12, 4)),
        ("2个星期后", sh(2026, 12, 11)),
        ("1个月后", sh(2026, 12, 27)),
        ("3天后下午2点", sh(2026, 11, 30, 14)),
        # dates with times
        ("明天下午3点", sh(2026, 11, 28, 15)),
        ("明天 下午3点", sh(2026, 11, 28, 15)),
        ("明天上午10点", sh(2026, 11, 28, 10)),
        ("明天下午", sh(2026, 11, 28, 14)),
        ("今天下午四点半", sh(2026, 11, 27, 16, 30)),
        ("明早9点", sh(2026, 11, 28, 9)),
        ("明早", sh(2026, 11, 28, 8)),
        ("明晚8点", sh(2026, 11, 28, 20)),
        ("明晚", sh(2026, 11, 28, 20)),
        ("今晚", sh(2026, 11, 27, 20)),
        ("今晚8点半", sh(2026, 11, 27, 20, 30)),
        ("今晚12点", sh(2026, 11, 28, 0)),
        ("明天凌晨3点", sh(2026, 11, 28, 3)),
        ("明天中午1点", sh(2026, 11, 28, 13)),
        ("明天傍晚", sh(2026, 11, 28, 18)),
        ("明天下午3点15分", sh(2026, 11, 28, 15, 15)),
        ("明天下午三点十五", sh(2026, 11, 28, 15, 15)),
        ("明天10点零五", sh(2026, 11, 28, 10, 5)),
        ("明天十点零五分", sh(2026, 11, 28, 10, 5)),
        ("明天下午3点钟", sh(2026, 11, 28, 15)),
        ("明天上午10点整", sh(2026, 11, 28, 10)),
        ("明天10时30分", sh(2026, 11, 28, 10, 30)),
        ("明天 3 点", sh(2026, 11, 28, 15)),
        # absolute dates
        ("11月30日 10:00", sh(2026, 11, 30, 10)),
        ("11月30日10点", sh(2026, 11, 30, 10)),
        ("11月30号", sh(2026, 11, 30)),
        ("十一月三十日", sh(2026, 11, 30)),
        ("11-30 10:00", sh(2026, 11, 30, 10)),
        ("11/30", sh(2026, 11, 30)),
        ("2026-12-01", sh(2026, 12, 1)),
        ("2026/12/01 14:30", sh(2026, 12, 1, 14, 30)),
        ("2026.12.1", sh(2026, 12, 1)),
        ("2026-12-01T14:00", sh(2026, 12, 1, 14)),
        ("2026年12月1日 下午2点", sh(2026, 12, 1, 14)),
        ("二〇二六年十二月一日", sh(2026, 12, 1)),
        ("１１月３０日　１０：００", sh(2026, 11, 30, 10)),  # full-width digits, colon and space
        ("11月27日", sh(2026, 11, 27)),  # today stays today (past at 10:00: returned as is)
        ("11月26日", sh(2027, 11, 26)),  # yearless and before today: next year
        ("1月5日", sh(2027, 1, 5)),
        ("30号", sh(2026, 11, 30)),
        ("31号", sh(2026, 12, 31)),  # November has no 31st: the next month that has one
        ("5号", sh(2026, 12, 5)),  # already past this month
        # weekdays (NOW is a Friday)
        ("周一", sh(2026, 11, 30)),
        ("周四", sh(2026, 12, 3)),
        ("周五", sh(2026, 12, 4)),  # bare weekday, no time: strictly after today
        ("星期五", sh(2026, 12, 4)),
        ("礼拜五", sh(2026, 12, 4)),
        ("周五下午3点", sh(2026, 11, 27, 15)),  # today, since 15:00 is still ahead
        ("周五上午9点", sh(2026, 12, 4, 9)),  # 09:00 today has passed: next week
        ("周五下午", sh(2026, 11, 27, 14)),
        ("周六", sh(2026, 11, 28)),
        ("周日", sh(2026, 11, 29)),
        ("星期天", sh(2026, 11, 29)),
        ("礼拜日", sh(2026, 11, 29)),
        ("周末", sh(2026, 11, 28)),
        ("下周一", sh(2026, 11, 30)),
        ("下周五", sh(2026, 12, 4)),
        ("下周日", sh(2026, 12, 6)),
        ("下个星期三", sh(2026, 12, 2)),
        ("下礼拜一上午十点", sh(2026, 11, 30, 10)),
        ("下周一十点", sh(2026, 11, 30, 10)),
        ("下下周三", sh(2026, 12, 9)),
        ("这周一", sh(2026, 11, 23)),  # this week's Monday: past, returned
        ("本周六", sh(2026, 11, 28)),
        ("下周", sh(2026, 11, 30)),  # next Monday
        # month positions
        ("下个月初", sh(2026, 12, 1)),
        ("下月初", sh(2026, 12, 1)),
        ("月底", sh(2026, 11, 30)),
        ("月末", sh(2026, 11, 30)),
        ("本月底", sh(2026, 11, 30)),
        ("下个月底", sh(2026, 12, 31)),
        ("月初", sh(2026, 12, 1)),  # this month's 1st is past: next month's
        ("月中", sh(2026, 12, 15)),
        ("下个月15号", sh(2026, 12, 15)),
        ("11月底", sh(2026, 11, 30)),
        ("12月初", sh(2026, 12, 1)),
        ("年底", sh(2026, 12, 31)),
        ("月底下午5点", sh(2026, 11, 30, 17)),
        # offsets from now (exact, truncated to the minute)
        ("1小时后", sh(2026, 11, 27, 11)),
        ("一小时后", sh(2026, 11, 27, 11)),
        ("半小时后", sh(2026, 11, 27, 10, 30)),
        ("半个小时后", sh(2026, 11, 27, 10, 30)),
        ("1个半小时后", sh(2026, 11, 27, 11, 30)),
        ("1.5小时后", sh(2026, 11, 27, 11, 30)),
        ("两个钟头后", sh(2026, 11, 27, 12)),
        ("2小时30分钟后", sh(2026, 11, 27, 12, 30)),
        ("30分钟后", sh(2026, 11, 27, 10, 30)),
        ("三十分钟之后", sh(2026, 11, 27, 10, 30)),
        ("一刻钟后", sh(2026, 11, 27, 10, 15)),
        # time only: today if still ahead, else tomorrow
        ("中午12点", sh(2026, 11, 27, 12)),
        ("晚上7点", sh(2026, 11, 27, 19)),
        ("下午3点15", sh(2026, 11, 27, 15, 15)),
        ("3点一刻", sh(2026, 11, 27, 15, 15)),  # 1-6 without a period word: afternoon
        ("三点三刻", sh(2026, 11, 27, 15, 45)),
        ("15:30", sh(2026, 11, 27, 15, 30)),
        ("3:30", sh(2026, 11, 27, 15, 30)),
        ("03:30", sh(2026, 11, 28, 3, 30)),  # leading zero: as written (and passed: tomorrow)
        ("9点", sh(2026, 11, 28, 9)),  # passed today: tomorrow
        ("10:00", sh(2026, 11, 28, 10)),  # exactly now is not ahead: tomorrow
        ("10:01", sh(2026, 11, 27, 10, 1)),
        ("两点", sh(2026, 11, 27, 14)),
        ("7点", sh(2026, 11, 28, 7)),
        ("上午12点", sh(2026, 11, 27, 12)),
        ("下午12点半", sh(2026, 11, 27, 12, 30)),
        ("下午15点", sh(2026, 11, 27, 15)),
        ("晚上", sh(2026, 11, 27, 20)),
        ("24点", sh(2026, 11, 28, 0)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    result = parse_when(text, now=NOW, tz=SHANGHAI)
    assert result == expected
    assert result.tzinfo == SHANGHAI


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # New Year's Eve 22:00
        (NYE, "明天", sh(2027, 1, 1)),
        (NYE, "后天下午3点", sh(2027, 1, 2, 15)),
        (NYE, "下周一", sh(2027, 1, 4)),
        (NYE, "周四", sh(2027, 1, 7)),  # today is Thursday, no time: next week
        (NYE, "周四晚上11点", sh(2026, 12, 31, 23)),  # still ahead today
        (NYE, "周五", sh(2027, 1, 1)),
        (NYE, "下个月初", sh(2027, 1, 1)),
        (NYE, "月底", sh(2027, 1, 31)),  # today's 09:00 has passed: next month's
        (NYE, "本月底", sh(2026, 12, 31)),  # explicit: no roll
        (NYE, "月底晚上11点", sh(2026, 12, 31, 23)),
        (NYE, "下个月底", sh(2027, 1, 31)),
        (NYE, "1月5日", sh(2027, 1, 5)),
        (NYE, "12月31日", sh(2026, 12, 31)),  # today, past: returned
        (NYE, "1小时后", sh(2026, 12, 31, 23)),
        (NYE, "3小时后", sh(2027, 1, 1, 1)),
        (NYE, "15:30", sh(2027, 1, 1, 15, 30)),
        (NYE, "23:30", sh(2026, 12, 31, 23, 30)),
        (NYE, "今晚", sh(2026, 12, 31, 20)),  # past: returned
        (NYE, "年底", sh(2027, 12, 31)),
        (NYE, "3天后", sh(2027, 1, 3)),
        (NYE, "1个月后", sh(2027, 1, 31)),
        (NYE, "5号", sh(2027, 1, 5)),
        # 2027-01-31: short February
        (JAN31, "1个月后", sh(2027, 2, 28)),  # clamped to the month end
        (JAN31, "下个月底", sh(2027, 2, 28)),
        (JAN31, "下个月28号", sh(2027, 2, 28)),
        (JAN31, "明天", sh(2027, 2, 1)),
        (JAN31, "月底", sh(2027, 2, 28)),  # 09:00 today has passed
        (JAN31, "月底下午3点", sh(2027, 1, 31, 15)),
        (JAN31, "30号", sh(2027, 3, 30)),  # February has no 30th
        (JAN31, "2月29日", sh(2028, 2, 29)),  # the next 29 February
        (JAN31, "下周一", sh(2027, 2, 1)),
        # 2028-02-27: leap year
        (LEAP, "月底", sh(2028, 2, 29)),
        (LEAP, "后天", sh(2028, 2, 29)),
        (LEAP, "3天后", sh(2028, 3, 1)),
        (LEAP, "2月29日", sh(2028, 2, 29)),
        (LEAP, "29号", sh(2028, 2, 29)),
        (LEAP, "30号", sh(2028, 3, 30)),
        (LEAP, "2028-02-29 10:00", sh(2028, 2, 29, 10)),
        (LEAP, "下个月初", sh(2028, 3, 1)),
        (LEAP, "1个月后", sh(2028, 3, 27)),
        (LEAP, "48小时后", sh(2028, 2, 29, 10)),
    ],
)
def test_parse_when_at_boundaries(now: datetime, text: str, expected: datetime) -> None:
    assert parse_when(text, now=now, tz=SHANGHAI) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("火星时间", ""),
        ("", ""),
        ("   ", ""),
        ("明天下午25点", "没有25点"),
        ("25点", "没有25点"),
        ("13月1日", "没有13月"),
        ("0月1日", "没有0月"),
        ("2月30日", "没有2月30日"),
        ("2027-02-29", "2027年没有2月29日"),
        ("2026-13-01", "没有13月"),
        ("11月31日", "没有11月31日"),
        ("32号", "没有32号"),
        ("上午13点", "上午没有13点"),
        ("下午0点", "下午没有0点"),
        ("中午8点", "中午没有8点"),
        ("凌晨8点", "凌晨没有8点"),
        ("3点61分", "没有61分"),
        ("15:75", "没有75分"),
        ("小时后", "时长必须大于0"),
        ("0分钟后", "时长必须大于0"),
        ("明天下午3点左右", ""),
        ("明天下午3点 送样品", ""),
        ("昨日今天", ""),
        ("下周八", ""),
        ("周8", ""),
        ("3", ""),
        ("明天明天", ""),
        ("下午明天", ""),
    ],
)
def test_parse_when_rejects(text: str, reason: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, now=NOW, tz=SHANGHAI)
    hint = info.value.hint
    assert reason in hint
    assert "明天下午3点" in hint and "11月30日 10:00" in hint  # examples for the user
    assert isinstance(info.value, DomainError) and info.value.message == hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The past is read too (the caller answers "already passed" instead of "cannot read it").
        ("昨天", sh(2026, 11, 26)),
        ("昨日下午3点", sh(2026, 11, 26, 15)),
        ("昨晚8点", sh(2026, 11, 26, 20)),
        ("前天", sh(2026, 11, 25)),
        ("大前天上午10点", sh(2026, 11, 24, 10)),
        ("3天前", sh(2026, 11, 24)),
        ("3天之前", sh(2026, 11, 24)),
        ("2周前", sh(2026, 11, 13)),
        ("1个月前", sh(2026, 10, 27)),
        ("2小时前", sh(2026, 11, 27, 8)),
        ("半小时以前", sh(2026, 11, 27, 9, 30)),
        ("10分钟前", sh(2026, 11, 27, 9, 50)),
    ],
)
def test_parse_when_past(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, tz=SHANGHAI) == expected
    assert is_past(expected, NOW)


def test_day_of_next_month_must_exist() -> None:
    assert parse_when("下个月31号", now=NOW, tz=SHANGHAI) == sh(2026, 12, 31)
    with pytest.raises(TimeParseError, match="2027年没有2月31日"):
        parse_when("下个月31号", now=JAN31, tz=SHANGHAI)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_when("明天", now=datetime(2026, 11, 27, 10, 0), tz=SHANGHAI)


def test_now_in_another_zone_is_read_in_shanghai() -> None:
    # 2026-11-27 18:00 UTC is 2026-11-28 02:00 in Shanghai: "明天" is the 29th.
    now_utc = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    result = parse_when("明天", now=now_utc, tz=SHANGHAI)
    assert result == sh(2026, 11, 29)
    assert result.tzinfo == SHANGHAI
    assert parse_when("30分钟后", now=now_utc, tz=SHANGHAI) == sh(2026, 11, 28, 2, 30)


def test_offsets_truncate_to_the_minute() -> None:
    now = datetime(2026, 11, 27, 10, 0, 42, 123456, tzinfo=SHANGHAI)
    assert parse_when("1小时后", now=now, tz=SHANGHAI) == sh(2026, 11, 27, 11)


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        ("明天下午3点 送样品", sh(2026, 11, 28, 15), "送样品"),
        ("明天 下午3点 送样品", sh(2026, 11, 28, 15), "送样品"),
        ("明天下午3点送样品", sh(2026, 11, 28, 15), "送样品"),
        ("明天 送样品", sh(2026, 11, 28), "送样品"),
        ("明天 下午 拜访", sh(2026, 11, 28, 14), "拜访"),
        ("  后天   带合同过去 ", sh(2026, 11, 29), "带合同过去"),
        ("3天后 回访", sh(2026, 11, 30), "回访"),
        ("三天后回访", sh(2026, 11, 30), "回访"),
        ("11月30日 10:00 报价 第二版", sh(2026, 11, 30, 10), "报价 第二版"),
        ("11-30 10:00 报价", sh(2026, 11, 30, 10), "报价"),
        ("2026-12-01 14:00 签合同", sh(2026, 12, 1, 14), "签合同"),
        ("下周一 上午10点 拜访 王总", sh(2026, 11, 30, 10), "拜访 王总"),
        ("15:30 开会", sh(2026, 11, 27, 15, 30), "开会"),
        ("三点十五分 电话", sh(2026, 11, 27, 15, 15), "电话"),
        ("半小时后 回电话", sh(2026, 11, 27, 10, 30), "回电话"),
        ("下个月初 对账", sh(2026, 12, 1), "对账"),
        ("今晚 打电话", sh(2026, 11, 27, 20), "打电话"),
        ("周五前交付", sh(2026, 12, 4), "前交付"),
        ("明天", sh(2026, 11, 28), ""),
        ("明天　送样品", sh(2026, 11, 28), "送样品"),  # full-width space
        ("明天下午 送样", sh(2026, 11, 28, 14), "送样"),
    ],
)
def test_parse_when_prefix(text: str, expected: datetime, rest: str) -> None:
    assert parse_when_prefix(text, now=NOW, tz=SHANGHAI) == (expected, rest)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("火星时间 送样品", ""),
        ("送样品", ""),
        ("", ""),
        ("明天下午25点 送样品", "没有25点"),  # not 明天下午 + "25点 送样品"
        ("明天 25点 送样品", "没有25点"),
        ("13月1日 送样品", "没有13月"),
        ("明天下午3点61分 送样品", "没有61分"),  # not 明天下午3点 + "61分 送样品"
        ("明天 下午 25点", "没有25点"),
    ],
)
def test_parse_when_prefix_rejects(text: str, reason: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when_prefix(text, now=NOW, tz=SHANGHAI)
    assert reason in info.value.hint


def test_prefix_does_not_split_numbers() -> None:
    # "15:3" + "0 开会" would be wrong; so would "三点十" + "五 电话".
    assert parse_when_prefix("15:30开会", now=NOW, tz=SHANGHAI) == (sh(2026, 11, 27, 15, 30), "开会")
    assert parse_when_prefix("三点十五电话", now=NOW, tz=SHANGHAI) == (sh(2026, 11, 27, 15, 15), "电话")


@pytest.mark.parametrize(
    ("dt", "now", "expected"),
    [
        (sh(2026, 11, 28, 15), None, "11月28日(周六) 15:00"),
        (sh(2026, 11, 28, 15), NOW, "11月28日(周六) 15:00"),
        (sh(2027, 1, 5), NOW, "2027年1月5日(周二) 09:00"),
        (sh(2027, 1, 5), None, "1月5日(周二) 09:00"),
        (sh(2026, 11, 29, 8, 5), NOW, "11月29日(周日) 08:05"),
        (datetime(2026, 11, 28, 7, 0, tzinfo=UTC), NOW, "11月28日(周六) 15:00"),  # shown in Shanghai
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), NOW, "2027年1月1日(周五) 00:30"),
        (datetime(2026, 11, 28, 15, 0), None, "11月28日(周六) 15:00"),  # naive: Shanghai wall time
    ],
)
def test_format_when(dt: datetime, now: datetime | None, expected: str) -> None:
    assert format_when(dt, now=now, tz=SHANGHAI) == expected


def test_is_past() -> None:
    assert is_past(parse_when("今天上午9点", now=NOW, tz=SHANGHAI), NOW)
    assert not is_past(parse_when("今天下午3点", now=NOW, tz=SHANGHAI), NOW)
    assert not is_past(NOW, NOW)
    assert is_past(parse_when("这周一", now=NOW, tz=SHANGHAI), NOW)


@pytest.mark.parametrize(
    "text",
    ["明天下午3点", "后天", "下周一", "3天后", "11月30日 10:00", "下个月初", "月底", "1小时后", "15:30"],
)
def test_results_are_in_shanghai_and_on_the_minute(text: str) -> None:
    result = parse_when(text, now=NOW, tz=SHANGHAI)
    assert result.tzinfo == SHANGHAI
    assert result.second == 0 and result.microsecond == 0
