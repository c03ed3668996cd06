"""`salesbot leads import FILE`: the trade-show sheet, with the customer import's rules.

Reuses the customer import's header names (services/customer_headers.py, plus 来源 / 备注) and what every sheet
import shares (services/sheet_import.py): the report, the rejects file beside the input (原行号 + 原因,
importable as it is). Re-runnable: a row whose company or phone is
already a customer or an open lead — including one an earlier run or an earlier row created — is counted as
已存在 and changes nothing; so a second run of the same file creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from chat.errors import DomainError
from services import leads as lead_service
from services.config import BusinessConfig
from services.customer_headers import HEADER_SYNONYMS
from services.sheet_import import ImportReport, RejectedRow, header_key, write_rejects
from services.tabular import read_rows

LEAD_HEADERS: dict[str, tuple[str, ...]] = {
    "name": HEADER_SYNONYMS["name"],
    "contact": HEADER_SYNONYMS["contact"],
    "phone": HEADER_SYNONYMS["phone"],
    "industry": HEADER_SYNONYMS["industry"],
    "address": HEADER_SYNONYMS["address"],
    "region": ("区域", "地区", "省市", "所在地", "省份", "城市", "region", "area", "city", "province"),
    "source": ("来源", "线索来源", "渠道", "获客渠道", "source", "channel"),
    "note": ("备注", "需求", "客户需求", "说明", "note", "notes", "remark", "comment"),
}


@dataclass
class LeadImportReport(ImportReport):
    existing: int = 0
    leads: list[lead_service.Created] = field(default_factory=list)

    def summary(self, *, max_lines: int = 50) -> str:
        text = super().summary(max_lines=max_lines)
        first, _, rest = text.partition("\n")
        head = "（试运行，未写入任何数据）" if self.dry_run else ""
        first = f"{head}共 {self.rows} 行：新线索 {self.created}，已存在 {self.existing}，跳过 {len(self.rejected)}"
        by_how: dict[str, int] = {}
        for c in self.leads:
            name = c.assignee.name if c.assignee is not None else "未分配"
            by_how[name] = by_how.get(name, 0) + 1
        assigned = ("分配：" + "，".join(f"{k} {v}" for k, v in by_how.items())) if by_how else ""
        return "\n".join(x for x in (first, assigned, rest) if x)


def _columns(headers: list[str]) -> tuple[list[str | None], list[str]]:
    lookup = {header_key(n): key for key, names in LEAD_HEADERS.items() for n in names}
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for header in headers:
        key = lookup.get(header_key(header))
        if key in seen:
            key = None
            ignored.append(f"{header}（重复列）")
        elif key is None and header_key(header) not in ("原因", "原行号", ""):
            ignored.append(header)
        if key is not None:
            seen.add(key)
        columns.append(key)
    return columns, ignored


def import_leads(
    session: Session,
    *,
    path: Path,
    config: BusinessConfig,
    now: datetime,
    source: str | None = None,
    dry_run: bool = False,
) -> LeadImportReport:
    """Import and assign; never commits. `source` is used for rows without a 来源 column value."""
    headers, rows = read_rows(path)
    columns, ignored = _columns(headers)
    if "name" not in columns:
        raise DomainError(
            f"{path.name}：找不到公司名称列。第一行应是表头，例如：公司名称,联系人,电话,来源,备注,地址,行业"
        )
    report = LeadImportReport(ignored_columns=ignored, headers=list(headers), dry_run=dry_run)
    for line, cells in enumerate(rows, start=2):
        report.rows += 1
        values = {
            key: cells[i] for i, key in enumerate(columns) if key is not None and i < len(cells) and cells[i]
        }
        data = lead_service.LeadInput(
            company=values.get("name", ""),
            contact=values.get("contact"),
            phone=values.get("phone"),
            source=values.get("source") or source or "展会",
            note=values.get("note"),
            address=values.get("address"),
            industry=values.get("industry"),
            region_hint=values.get("region"),
        )
        # create_lead refuses before it writes anything (its duplicate audit entry is only pending), so a
        # refused row is dropped from the session; no savepoint (pysqlite would commit one in a dry run).
        try:
            created = lead_service.create_lead(
                session, config=config, data=data, actor="import", user=None, now=now
            )
        except lead_service.DuplicateLead:
            _drop_pending(session)
            report.existing += 1
            continue
        except DomainError as exc:
            _drop_pending(session)
            reason = exc.message.split("\n")[0]
            report.rejected.append(RejectedRow(line, list(cells), reason, reason.split("：")[0][:20]))
            continue
        report.created += 1
        report.leads.append(created)
    if not dry_run:
        report.rejects_path = write_rejects(path, report, now=now)
    return report


def _drop_pending(session: Session) -> None:
    for obj in list(session.new):
        session.expunge(obj)
