"""services.parsing.text: table-driven."""

from __future__ import annotations

import pytest

from chat.errors import DomainError
from services.parsing import (
    ParseError,
    normalize_name,
    normalize_text,
    parse_kv_pairs,
    split_args,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", "abc"),
        ("  abc  ", "abc"),
        ("ＡＢＣ１２３", "ABC123"),
        ("客户\u3000华强", "客户 华强"),  # full-width space
        ("a \t\n  b", "a b"),
        ("跟进　　华强　 明天", "跟进 华强 明天"),
        ("电话：１３８", "电话:138"),
        ("（深圳）", "(深圳)"),
        ("「华强」。", "「华强」。"),  # no half-width form: kept
        ("a\u200bb\ufeff", "ab"),  # zero-width characters dropped
        ("", ""),
        ("\u3000", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市华强电子有限公司", "深圳市华强电子"),
        ("深圳市华强电子有限公司", "深圳市华强电子有限责任公司"),
        ("深圳市华强电子有限公司", "深圳市华强电子股份有限公司"),
        ("深圳市 华强电子 有限公司", "深圳市华强电子有限公司"),
        ("华强（深圳）电子有限公司", "华强(深圳)电子有限公司"),
        ("华强(深圳)电子", "华强深圳电子"),
        ("「华强」电子", "华强电子"),
        ("华强·电子", "华强电子"),
        ("华强，电子。", "华强,电子."),
        ("华强-电子", "华强电子"),
        ("A&B贸易", "AB贸易"),  # & is punctuation (Po)
        ("ACME Trading Co., Ltd.", "acme trading co ltd"),
        ("ＡＣＭＥ", "acme"),
        ("华强集团有限公司", "华强集团"),
    ],
)
def test_normalize_name_matches(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华强集团有限公司", "华强有限公司"),  # 集团 is kept: group and subsidiary differ
        ("华强电子", "华强科技"),
        ("华强电子分公司", "华强电子"),  # branch words are not stripped
        ("华强电子公司", "华强电子"),  # bare 公司 is not stripped (conservative)
        ("A+B贸易", "AB贸易"),  # symbols (S*) are kept
        ("华强电子(中国)", "华强电子"),  # region words are kept
    ],
)
def test_normalize_name_keeps_apart(a: str, b: str) -> None:
    assert normalize_name(a) != normalize_name(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("深圳市华强电子有限公司", "深圳市华强电子"),
        ("华强集团有限公司", "华强集团"),
        ("Acme Ltd.", "acmeltd"),
        ("有限公司", "有限公司"),  # only a suffix: kept
        ("有限公司有限公司", "有限公司"),  # one suffix stripped
        ("", ""),
    ],
)
def test_normalize_name(text: str, expected: str) -> None:
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("跟进 华强 明天下午3点 送样品", ["跟进", "华强", "明天下午3点", "送样品"]),
        ("跟进\u3000华强\u3000\u3000明天", ["跟进", "华强", "明天"]),
        ("  a\tb\nc  ", ["a", "b", "c"]),
        ("客户", ["客户"]),
        ("", []),
        ("\u3000 ", []),
        ("a\u200b b", ["a", "b"]),
    ],
)
def test_split_args(text: str, expected: list[str]) -> None:
    assert split_args(text) == expected


@pytest.mark.parametrize(
    ("tokens", "pairs", "rest"),
    [
        (
            ["行业=电子", "区域:华南", "联系人：王总", "电话＝138"],
            {"行业": "电子", "区域": "华南", "联系人": "王总", "电话": "138"},
            [],
        ),
        (["华强", "行业=电子", "备注"], {"行业": "电子"}, ["华强", "备注"]),
        (["备注=a:b=c"], {"备注": "a:b=c"}, []),  # the first separator wins
        (["备注：时间15:30"], {"备注": "时间15:30"}, []),
        (["电话="], {"电话": ""}, []),  # empty value: e.g. to clear a field
        (["=x", ":x"], {}, ["=x", ":x"]),  # no key
        (["15:30", "2026-12-01"], {}, ["15:30", "2026-12-01"]),  # all-digit key: not a pair
        (["行业=电子", "行业=机械"], {"行业": "机械"}, []),  # later wins
        (["行业 = 电子"], {"行业": "电子"}, []),
        ([], {}, []),
    ],
)
def test_parse_kv_pairs(tokens: list[str], pairs: dict[str, str], rest: list[str]) -> None:
    assert parse_kv_pairs(tokens) == (pairs, rest)


def test_parse_error_is_a_domain_error_with_a_hint() -> None:
    error = ParseError("请这样写：例如 8万")
    assert isinstance(error, DomainError)
    assert error.hint == error.message == "请这样写：例如 8万"
