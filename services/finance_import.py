"""`salesbot finance import FILE`: receipts exported from the ERP (用友 U8 / 金蝶) recorded as payments.

Columns (matched like the customer import's headers, with the usual synonyms): 合同编号, 回款金额, 回款日期,
凭证号. Idempotent on the voucher number: a voucher already recorded is counted as 已导入过 and skipped, so
the same export can be imported again (or a later export that overlaps). A row that cannot be recorded is
skipped with a Chinese reason and written, with its columns plus 原行号 and 原因, to a rejects file beside the
input (services/sheet_import.write_rejects), which can be fixed and imported as it is.

Each receipt goes through services/receipts.receive (source "erp"): it lands on the oldest open instalment,
never exceeds what the contract still owes, and is not posted back to the finance webhook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Contract, Payment, User
from services import plans, receipts
from services.config import BusinessConfig
from services.parsing import SHANGHAI, AmountError, format_amount, parse_amount
from services.sheet_import import ImportReport, RejectedRow, header_key, rejects_path_for, write_rejects
from services.tabular import read_rows

ACTOR = "erp-import"
CONTRACT_PREFIX = "SB"  # the 合同编号 the finance export writes: SB000012 for contract #12
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "contract": (
        "合同编号",
        "合同号",
        "合同编码",
        "合同",
        "销售合同号",
        "contract",
        "contract_no",
        "contractno",
    ),
    "amount": ("回款金额", "收款金额", "金额", "本币金额", "原币金额", "贷方金额", "到账金额", "amount"),
    "date": ("回款日期", "收款日期", "到账日期", "凭证日期", "单据日期", "日期", "date"),
    "voucher": (
        "凭证号",
        "凭证编号",
        "凭证字号",
        "收款单号",
        "单据编号",
        "单据号",
        "voucher",
        "voucher_no",
        "voucherno",
    ),
}
REQUIRED = {"contract": "合同编号", "amount": "回款金额", "date": "回款日期", "voucher": "凭证号"}
_CONTRACT = re.compile(r"^(?:SB[-_]?|#|＃)?0*(\d{1,9})$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def contract_code(contract_id: int) -> str:
    return f"{CONTRACT_PREFIX}{contract_id:06d}"


@dataclass
class ReceiptsReport(ImportReport):
    imported: int = 0
    already: int = 0  # vouchers recorded by an earlier import
    amount: Decimal = Decimal(0)
    contracts: set[int] = field(default_factory=set)

    def summary(self, *, max_lines: int = 50) -> str:
        head = "（试运行，未写入任何数据）" if self.dry_run else ""
        lines = [
            f"{head}共 {self.rows} 行：导入回款 {self.imported} 笔（{format_amount(self.amount)}，涉及 {len(self.contracts)} 个合同），"
            f"已导入过 {self.already}，跳过 {len(self.rejected)}"
        ]
        if self.rejected:
            lines.append("跳过原因：" + "，".join(f"{k} {n}" for k, n in self.skipped_by_reason.items()))
            lines += [f"  第 {r.line} 行：{r.reason}" for r in self.rejected[:max_lines]]
            if len(self.rejected) > max_lines:
                lines.append(f"  ……另有 {len(self.rejected) - max_lines} 行，见跳过文件")
        if self.ignored_columns:
            lines.append("未识别的列（已忽略）：" + "、".join(self.ignored_columns))
        if self.rejects_path is not None:
            lines.append(
                f"跳过的行已写入 {self.rejects_path}，改正后可直接再导入这个文件（已导入的凭证不会重复记录）。"
            )
        return "\n".join(lines)


class _Skip(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def match_headers(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    lookup = {header_key(name): key for key, names in HEADER_SYNONYMS.items() for name in names}
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        key = lookup.get(header_key(header))
        if key is not None and key not in found:
            found[key] = i
        elif header_key(header) not in ("原因", "原行号", ""):
            ignored.append(header)
    return found, ignored


def parse_date(raw: str) -> date:
    text = raw.strip()
    m = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not m:
        raise _Skip("日期无效", f"回款日期看不懂：{text or '（空）'}（例如 2026-12-15）")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _Skip("日期无效", f"回款日期不存在：{text}") from None


def import_receipts(
    session: Session,
    *,
    path: Path,
    config: BusinessConfig,
    now: datetime,
    dry_run: bool = False,
    write_rejects_file: bool = True,
) -> ReceiptsReport:
    """Read the sheet and record its receipts; never commits (the caller does, or rolls back a dry run)."""
    headers, rows = read_rows(path)
    columns, ignored = match_headers(headers)
    missing = [label for key, label in REQUIRED.items() if key not in columns]
    if missing:
        raise DomainError(
            f"{path.name}：找不到列 {'、'.join(missing)}。第一行应是表头，例如：合同编号,回款金额,回款日期,凭证号"
        )
    report = ReceiptsReport(headers=list(headers), ignored_columns=ignored, dry_run=dry_run)
    actor = cast(User, SimpleNamespace(userid=ACTOR))
    today = now.astimezone(SHANGHAI).date()
    seen: set[str] = set()
    for line, cells in enumerate(rows, start=2):
        report.rows += 1

        def cell(key: str, cells: list[str] = cells) -> str:
            i = columns[key]
            return cells[i].strip() if i < len(cells) else ""

        try:
            voucher = cell("voucher")
            if not voucher:
                raise _Skip("缺少凭证号", "缺少凭证号（用来避免重复导入）")
            if len(voucher) > 64:
                raise _Skip("凭证号无效", f"凭证号太长：{voucher[:20]}…")
            if voucher in seen:
                raise _Skip("文件内凭证号重复", f"凭证号 {voucher} 在本文件中出现了不止一次")
            seen.add(voucher)
            if session.scalar(select(Payment.id).where(Payment.voucher_no == voucher)) is not None:
                report.already += 1
                continue
            m = _CONTRACT.match(cell("contract").replace(" ", ""))
            contract = session.get(Contract, int(m.group(1))) if m else None
            if contract is None:
                raise _Skip(
                    "找不到合同",
                    f"找不到合同：{cell('contract') or '（空）'}（合同编号如 {contract_code(12)}）",
                )
            try:
                amount = parse_amount(cell("amount"))
            except AmountError:
                raise _Skip("金额无效", f"回款金额看不懂：{cell('amount') or '（空）'}") from None
            if amount <= 0:
                raise _Skip("金额无效", f"回款金额要大于 0：{cell('amount')}")
            day = parse_date(cell("date"))
            if day > today:
                raise _Skip("日期无效", f"回款日期在将来：{day:%Y-%m-%d}")
            received = datetime.combine(day, time(12, 0), tzinfo=SHANGHAI)
            owed = Decimal(contract.amount) - plans.totals_by_contract(session, [contract.id])[0].get(
                contract.id, Decimal(0)
            )
            if amount > owed:  # checked here, before any write, so a rejected row leaves nothing behind
                raise _Skip(
                    "超过未收金额",
                    f"回款 {format_amount(amount)} 超过合同 {contract_code(contract.id)} 的未收金额 {format_amount(owed)}",
                )
            receipts.receive(
                session,
                config=config,
                user=actor,
                contract=contract,
                amount=amount,
                now=now,
                received_at=received,
                voucher_no=voucher,
                source="erp",
            )
            report.imported += 1
            report.amount += amount
            report.contracts.add(contract.id)
        except _Skip as skip:
            report.rejected.append(RejectedRow(line, list(cells), skip.reason, skip.kind))
    if write_rejects_file and not dry_run:
        report.rejects_path = write_rejects(path, report, now=now)
    base = rejects_path_for(path)
    if base.exists() and base != report.rejects_path:
        report.rejects_kept = base
    return report
