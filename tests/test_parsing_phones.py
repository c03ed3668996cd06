"""services.parsing.phones: table-driven."""

from __future__ import annotations

import pytest

from chat.errors import DomainError
from services.parsing import PhoneError, normalize_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # mobiles
        ("13800000007", "13800000007"),
        ("138 0000 0007", "13800000007"),
        ("138-0000-0007", "13800000007"),
        ("138.0000.0007", "13800000007"),
        ("+86 138 0000 0007", "13800000007"),
        ("+86-138-0000-0007", "13800000007"),
        ("+8613800000007", "13800000007"),
        ("86 13800000007", "13800000007"),
        ("8613800000007", "13800000007"),
        ("0086 13800000007", "13800000007"),
        ("(+86) 138 0000 0007", "13800000007"),
        ("１３８００００００07", "13800000007"),  # full-width digits
        ("（138）0000－0007", "13800000007"),  # full-width parentheses and dash
        ("＋８６ １３８ ００００ ０００７", "13800000007"),
        ("19912345678", "19912345678"),
        (" 15012345678 ", "15012345678"),
        # landlines
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(010) 1234 5678", "010-12345678"),
        ("(0755) 8888 6666", "0755-88886666"),
        ("0755-8888-6666", "0755-88886666"),
        ("075588886666", "0755-88886666"),
        ("021 6123 4567", "021-61234567"),
        ("020-87654321", "020-87654321"),
        ("0571-8765432", "0571-8765432"),  # 7-digit local number
        ("0571 876 5432", "0571-8765432"),
        ("+86 10 12345678", "010-12345678"),  # international: trunk 0 dropped
        ("+86 755 8888 6666", "0755-88886666"),
        ("0086 21 6123 4567", "021-61234567"),
        ("+86 (0)10 12345678", "010-12345678"),
        # extensions
        ("010-12345678-123", "010-12345678-123"),
        ("010-12345678转123", "010-12345678-123"),
        ("010-12345678 转 123", "010-12345678-123"),
        ("0755-88886666 分机 8", "0755-88886666-8"),
        ("0755-88886666 ext. 8", "0755-88886666-8"),
        ("0755-88886666x8", "0755-88886666-8"),
        ("0755-88886666#8", "0755-88886666-8"),
        ("0571-8765432-1", "0571-8765432-1"),  # the trailing group is the extension
        # 400 service numbers
        ("400-123-4567", "4001234567"),
        ("400 123 4567", "4001234567"),
        ("4001234567", "4001234567"),
        ("400-1234-567", "4001234567"),
    ],
)
def test_normalize_phone(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "电话",
        "12345678",  # landline without area code
        "1380000000",  # 10 digits
        "138000000071",  # 12 digits
        "12800000007",  # 12x is not a mobile prefix
        "10800000007",
        "011-12345678",  # no 011 area code
        "010-02345678",  # local numbers do not start with 0
        "010-123456",  # 6-digit local number
        "010-123456789",
        "0755-8888",
        "13800000007转123",  # mobiles have no extensions
        "400-123-456",
        "400-123-4567-1",
        "800-123-4567",  # only 400 service numbers
        "95588",
        "110",
        "++8613800000007",
        "138+00000007",
        "+1 415 555 0100",
        "44 13800000007",
        "138 0000 0007 / 139 0000 0008",
        "tel:13800000007",
        "010-12345678转1234567",  # extension longer than 6 digits
        "١٣٨٠٠٠٠٠٠٠٧",  # Arabic-Indic digits
    ],
)
def test_normalize_phone_rejects(text: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_phone(text)
    hint = info.value.hint
    assert "13800000007" in hint and "010-12345678" in hint  # examples for the user
    assert isinstance(info.value, DomainError) and info.value.message == hint


@pytest.mark.parametrize(
    "text",
    ["+86 138 0000 0007", "(0755) 8888 6666", "0571-8765432转123", "400 123 4567", "021 6123 4567"],
)
def test_normalize_phone_is_idempotent(text: str) -> None:
    once = normalize_phone(text)
    assert normalize_phone(once) == once
