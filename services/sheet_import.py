"""What every sheet import shares (customers, leads, targets, finance): the header key, the report with its
Chinese summary, and the rejects file written beside the input.

The rejects file is the input's columns plus 原行号 (the row's line in the first sheet it came from) and 原因,
named after the original sheet (`x.xlsx` and `x.rejects.xlsx` both give `x.rejects.xlsx`); it never replaces
an existing file — the clerk may be editing it: then it gets a timestamped name (`x.rejects-20261127-0830.xlsx`).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from services.parsing import SHANGHAI, normalize_text

REASON_COLUMN = "原因"
LINE_COLUMN = "原行号"
# "x.rejects" or "x.rejects-20261127-0830" (or "-2" when one minute gave two) -> "x"
_REJECTS_STEM = re.compile(r"\.rejects(?:-\d{8}-\d{4}(?:-\d+)?)?$")


def header_key(header: str) -> str:
    return normalize_text(header).lower().replace(" ", "").rstrip("*").strip()


@dataclass
class RejectedRow:
    line: int  # the row's number in the sheet counting the header as line 1 (blank rows are not counted)
    cells: list[str]
    reason: str  # shown to the user, e.g. "电话无效：12345"
    kind: str  # the reason without the value, for the summary, e.g. "电话无效"


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # rows for a customer an earlier row of the same file already imported
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    rejects_kept: Path | None = None  # the rejects file that already existed and was left alone
    dry_run: bool = False

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.rejected))

    def summary(self, *, max_lines: int = 50) -> str:
        head = "（试运行，未写入任何数据）" if self.dry_run else ""
        lines = [
            f"{head}共 {self.rows} 行：新建 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
            f"文件内重复合并 {self.merged}，跳过 {len(self.rejected)}"
        ]
        if self.rejected:
            lines.append("跳过原因：" + "，".join(f"{k} {n}" for k, n in self.skipped_by_reason.items()))
            for r in self.rejected[:max_lines]:
                lines.append(f"  第 {r.line} 行：{r.reason}")
            if len(self.rejected) > max_lines:
                lines.append(f"  ……另有 {len(self.rejected) - max_lines} 行，见跳过文件")
        if self.ignored_columns:
            lines.append("未识别的列（已忽略）：" + "、".join(self.ignored_columns))
        if self.rejects_path is not None:
            lines.append(
                f"跳过的行已写入 {self.rejects_path}（「原行号」是它在原表中的行号），改正后可直接再导入这个文件。"
            )
            if self.rejects_kept is not None:
                lines.append(f"已有的 {self.rejects_kept.name} 没有被覆盖。")
        elif self.rejects_kept is not None and not self.dry_run:
            lines.append(
                f"这次没有跳过的行；以前的跳过文件 {self.rejects_kept} 仍保留，确认不需要后可以删除。"
            )
        return "\n".join(lines)


def rejects_path_for(path: Path) -> Path:
    """`x.rejects.xlsx` for `x.xlsx` and for the rejects files of `x.xlsx` themselves (no `.rejects.rejects`)."""
    suffix = path.suffix.lower()
    ext = ".xlsx" if suffix in (".xlsx", ".xlsm") else ".csv"
    return path.with_name(f"{_REJECTS_STEM.sub('', path.stem)}.rejects{ext}")


def rejects_target(path: Path, *, now: datetime) -> Path:
    """Where to write the rejects of `path`: `rejects_path_for(path)`, or a timestamped name if that exists."""
    target = rejects_path_for(path)
    if not target.exists():
        return target
    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    stem = target.name[: -len(target.suffix)]
    candidate = target.with_name(f"{stem}-{stamp}{target.suffix}")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{stem}-{stamp}-{n}{target.suffix}")
        n += 1
    return candidate


def write_rejects(path: Path, report: ImportReport, *, now: datetime) -> Path | None:
    """The skipped rows: their columns plus 原行号 and 原因, beside the input (see `rejects_target`).

    Never replaces or removes an existing file. 原行号 is the row's line in the sheet it first came from: a
    row of an imported rejects file keeps the 原行号 it already had.
    """
    if not report.rejected:
        return None
    target = rejects_target(path, now=now)
    extra = (LINE_COLUMN, REASON_COLUMN)
    keep = [i for i, h in enumerate(report.headers) if header_key(h) not in extra]
    line_at = next((i for i, h in enumerate(report.headers) if header_key(h) == LINE_COLUMN), None)
    headers = [report.headers[i] for i in keep] + list(extra)

    def source_line(r: RejectedRow) -> int:
        given = r.cells[line_at].strip() if line_at is not None and line_at < len(r.cells) else ""
        return int(given) if given.isdigit() and int(given) > 0 else r.line

    def rows() -> Iterable[list[Any]]:
        for r in report.rejected:
            cells = [r.cells[i] if i < len(r.cells) else "" for i in keep]
            yield [*cells, source_line(r), r.reason]

    if target.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("跳过的行")
        sheet.append(headers)
        for cells in rows():
            sheet.append(cells)
        workbook.save(target)
    else:
        with target.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(rows())
    return target
