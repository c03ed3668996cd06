"""Which column of a customer sheet is which field: common Chinese/English header names (`HEADER_SYNONYMS`,
also read by the lead and finance imports) and the configured fields' labels and keys (`match_headers`).
"""

from __future__ import annotations

from services.config import BusinessConfig
from services.sheet_import import LINE_COLUMN, REASON_COLUMN, header_key

OWNER = "owner"
# field key -> accepted header names (compared after `header_key`: NFKC, lower-case, no spaces, no '*').
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "客户名称",
        "客户名",
        "名称",
        "公司名称",
        "公司",
        "单位名称",
        "客户",
        "customer",
        "customername",
        "name",
        "company",
        "companyname",
    ),
    "contact": ("联系人", "联系人姓名", "客户联系人", "contact", "contactname", "contactperson"),
    "phone": (
        "联系电话",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "电话号码",
        "联系方式",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "phonenumber",
    ),
    "industry": ("行业", "所属行业", "industry"),
    "region": ("区域", "地区", "所属区域", "片区", "region", "area"),
    OWNER: (
        "负责人账号",
        "负责人",
        "销售",
        "销售员",
        "业务员",
        "销售负责人",
        "客户经理",
        "owner",
        "sales",
        "salesrep",
        "rep",
        "owneruserid",
    ),
    "address": ("地址", "详细地址", "公司地址", "address"),
}


def match_headers(headers: list[str], config: BusinessConfig) -> tuple[list[str | None], list[str]]:
    """(field key or None per column, the names of the columns that are ignored).

    Keys are customer field keys plus "owner". A field given by two columns keeps the first one.
    """
    lookup: dict[str, str] = {}
    for field_key, names in HEADER_SYNONYMS.items():
        for name in names:
            lookup.setdefault(header_key(name), field_key)
    for f in config.customer_fields:  # configured labels/keys (custom fields, renamed built-ins)
        lookup[header_key(f.label)] = f.key
        lookup[header_key(f.key)] = f.key
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for header in headers:
        hk = header_key(header)
        key = lookup.get(hk)
        if key is not None and key in seen:
            ignored.append(f"{header}（重复列）")
            key = None
        elif key is None and hk and hk not in (REASON_COLUMN, LINE_COLUMN):
            ignored.append(header)
        if key is not None:
            seen.add(key)
        columns.append(key)
    return columns, ignored
