"""services.parsing.amounts: table-driven."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chat.errors import DomainError
from services.parsing import MAX_AMOUNT, AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80000", "80000"),
        ("8万", "80000"),
        ("8.5万元", "85000"),
        ("8.5万", "85000"),
        ("¥120,000", "120000"),
        ("￥120,000.50", "120000.50"),
        ("¥ 120,000.5", "120000.50"),
        ("120000元", "120000"),
        ("120000.00", "120000"),
        ("三十万", "300000"),
        ("十二万五千", "125000"),
        ("十二万五", "125000"),  # colloquial
        ("两万块", "20000"),
        ("二十万零五百", "200500"),
        ("一百二十万元", "1200000"),
        ("3万5千", "35000"),
        ("8万5", "85000"),
        ("五点五万", "55000"),
        ("一千二百三十四点五六", "1234.56"),
        ("1.2亿", "120000000"),
        ("1.2亿元", "120000000"),
        ("RMB 5000", "5000"),
        ("rmb5000", "5000"),
        ("CNY 5,000", "5000"),
        ("人民币5000元", "5000"),
        ("5000元整", "5000"),
        ("８万", "80000"),  # full-width digits
        ("１２０，０００", "120000"),  # full-width comma
        ("  80000  ", "80000"),
        ("5千", "5000"),
        ("10k", "10000"),
        ("8W", "80000"),
        ("0.01", "0.01"),
        ("1.23456万", "12345.60"),  # 2 decimals after the unit is applied
        ("9999亿", "999900000000"),
    ],
)
def test_parse_amount(text: str, expected: str) -> None:
    result = parse_amount(text)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2  # always quantised to cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "必须大于0"),
        ("0.00", "必须大于0"),
        ("零", "必须大于0"),
        ("-5000", "不能为负数"),
        ("负五千", "不能为负数"),
        ("1.234", "最多只能有两位小数"),
        ("120,000.505", "最多只能有两位小数"),
        ("一千二百三十四点五六七", "最多只能有两位小数"),
        ("1万亿", "太大了"),
        ("abc", ""),
        ("", ""),
        ("¥", ""),
        ("万", ""),
        ("元", ""),
        ("12,0000", ""),  # commas must group by three
        ("1,2", ""),
        ("8万万", ""),
        ("8..5万", ""),
        ("5点", ""),
        ("点五", ""),
        ("1e5", ""),
        ("八万 美元", ""),
        ("$5000", ""),
        ("5000-6000", ""),
        ("约5万", ""),
        ("١٢٣", ""),  # Arabic-Indic digits
    ],
)
def test_parse_amount_rejects(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    hint = info.value.hint
    assert reason in hint
    assert "8.5万元" in hint and "¥120,000" in hint  # examples for the user
    assert isinstance(info.value, DomainError) and info.value.message == hint


def test_max_amount_fits_the_column() -> None:
    assert parse_amount("999,999,999,999.99") == MAX_AMOUNT
    with pytest.raises(AmountError):
        parse_amount("1,000,000,000,000")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("80000", "¥80,000"),
        ("80000.00", "¥80,000"),
        ("85000.50", "¥85,000.50"),
        ("85000.5", "¥85,000.50"),
        ("0.01", "¥0.01"),
        ("999", "¥999"),
        ("1000", "¥1,000"),
        ("120000000", "¥120,000,000"),
        ("1234.565", "¥1,234.57"),  # rounded half-up
        ("-5000", "-¥5,000"),
    ],
)
def test_format_amount(amount: str, expected: str) -> None:
    assert format_amount(Decimal(amount)) == expected


@pytest.mark.parametrize("text", ["80000", "8.5万元", "￥120,000.50", "十二万五千", "1.2亿"])
def test_format_then_parse_round_trips(text: str) -> None:
    value = parse_amount(text)
    assert parse_amount(format_amount(value)) == value
