"""Make a deterministic, messy customer sheet like the reps' old Excel files.

    python bench/make_customer_sheet.py out.xlsx --rows 1205            # 1,200 customers, 2 dups, 3 bad rows
    python bench/make_customer_sheet.py big.xlsx --rows 100000 --duplicates 1000 --bad 300

Mess included: owners written as upper-case userids or as names, blank regions (taken from the owner), phones
as `13800000007`, `138-0000-0007`, `+86 138 0000 0007` or full-width digits, names with odd spacing and
legal-form suffixes, an unknown column (备注). Duplicates repeat an earlier customer with different spacing
and phone format. Bad rows cycle through: no name, an invalid phone, an unknown owner.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = ["客户名称", "联系人", "联系电话", "行业", "区域", "负责人", "地址", "用电负荷等级", "备注"]
# (userid, name, region): the reps of tests/harness.py ORG.
DEFAULT_OWNERS: list[tuple[str, str, str]] = [
    ("rep_e1", "张伟", "华东"),
    ("rep_e2", "李娜", "华东"),
    ("rep_s1", "赵强", "华南"),
]
BAD_KINDS = ("缺少客户名称", "电话无效", "负责人不存在")

_CITIES = ["上海", "苏州", "无锡", "宁波", "杭州", "深圳", "东莞", "佛山", "广州", "常州"]
_CORES = ["精密", "机械", "电子", "五金", "模具", "塑胶", "电气", "自动化", "新材料", "装备"]
_LEGAL = ["有限公司", "股份有限公司", "有限责任公司", "制造厂"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_TITLES = ["经理", "先生", "女士", "总", "工"]
_INDUSTRIES = ["机械制造", "电子电器", "汽车零部件", "五金工具", "注塑", ""]
_GRADES = ["一级", "二级", "三级", "", ""]


@dataclass
class SheetInfo:
    rows: int
    customers: int  # distinct valid customers in the sheet
    duplicate_lines: list[int] = field(default_factory=list)
    bad_lines: dict[int, str] = field(default_factory=dict)  # line (header = 1) -> BAD_KINDS entry


def _phone(number: str, style: int) -> str:
    if style == 0:
        return number
    if style == 1:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 2:
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _spaced(name: str) -> str:
    """The same name with different spacing (half- and full-width)."""
    return " " + name[:2] + "\u3000" + name[2:4] + " " + name[4:] + "  "


def make_rows(
    n: int,
    *,
    duplicates: int = 2,
    bad: int = 3,
    seed: int = 7,
    owners: list[tuple[str, str, str]] | None = None,
) -> tuple[list[list[str]], SheetInfo]:
    owners = owners or DEFAULT_OWNERS
    rng = random.Random(seed)
    unique = n - duplicates - bad
    if unique < 1 or (duplicates and unique < 1):
        raise ValueError("need more rows than duplicates + bad rows")
    info = SheetInfo(rows=n, customers=unique)
    rows: list[list[str]] = []
    for i in range(unique):
        userid, owner_name, region = owners[i % len(owners)]
        name = f"{rng.choice(_CITIES)}{rng.choice(_CORES)}{i + 1}号{rng.choice(_LEGAL)}"
        number = f"13{i + 100000:09d}"
        rows.append(
            [
                name,
                f"{rng.choice(_SURNAMES)}{rng.choice(_TITLES)}",
                _phone(number, rng.randrange(4)),
                rng.choice(_INDUSTRIES),
                "" if rng.random() < 0.3 else region,
                userid.upper() if rng.random() < 0.3 else (owner_name if rng.random() < 0.5 else userid),
                f"{rng.choice(_CITIES)}市工业园区{rng.randrange(1, 300)}号" if rng.random() < 0.8 else "",
                rng.choice(_GRADES),
                "老客户" if rng.random() < 0.1 else "",
            ]
        )
    # Extra rows go in at spread positions; positions are chosen in the final sheet's coordinates.
    extras: list[tuple[str, list[str]]] = []
    for k in range(duplicates):
        original = rows[(k * 7919) % max(1, unique // 2)]  # an earlier customer
        digits = "".join(ch for ch in original[2] if ch.isdigit() or ch in "０１２３４５６７８９")
        number = digits.translate(str.maketrans("０１２３４５６７８９", "0123456789"))[-11:]
        dup = list(original)
        dup[0] = _spaced(original[0])
        dup[2] = _phone(number, (k + 1) % 4 if _phone(number, (k + 1) % 4) != original[2] else (k + 2) % 4)
        extras.append(("dup", dup))
    for k in range(bad):
        kind = BAD_KINDS[k % len(BAD_KINDS)]
        number = f"15{k + 100000:09d}"
        row = [f"待修正客户{k + 1}号有限公司", "钱经理", number, "注塑", "华东", "rep_e1", "", "", ""]
        if kind == "缺少客户名称":
            row[0] = ""
        elif kind == "电话无效":
            row[2] = f"12345{k}"
        else:
            row[5] = f"nobody{k}"
        extras.append((kind, row))
    total = unique + len(extras)
    slots = sorted(rng.sample(range(unique // 2 + 1, total), len(extras))) if extras else []
    out: list[list[str]] = []
    it = iter(rows)
    slot_set = dict(zip(slots, extras, strict=True))
    for pos in range(total):
        if pos in slot_set:
            kind, row = slot_set[pos]
            line = pos + 2
            if kind == "dup":
                info.duplicate_lines.append(line)
            else:
                info.bad_lines[line] = kind
            out.append(row)
        else:
            out.append(next(it))
    return out, info


def write_sheet(path: Path, rows: list[list[str]], headers: list[str] | None = None) -> None:
    headers = headers or HEADERS
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("客户")
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        workbook.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(rows)


def make_sheet(path: Path, n: int, *, duplicates: int = 2, bad: int = 3, seed: int = 7) -> SheetInfo:
    rows, info = make_rows(n, duplicates=duplicates, bad=bad, seed=seed)
    write_sheet(path, rows)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", help=".xlsx or .csv")
    parser.add_argument("--rows", type=int, default=1205)
    parser.add_argument("--duplicates", type=int, default=2)
    parser.add_argument("--bad", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    info = make_sheet(Path(args.file), args.rows, duplicates=args.duplicates, bad=args.bad, seed=args.seed)
    print(
        f"{args.file}: {info.rows} rows, {info.customers} customers, {len(info.duplicate_lines)} duplicates, "
        f"{len(info.bad_lines)} bad rows"
    )


if __name__ == "__main__":
    main()
