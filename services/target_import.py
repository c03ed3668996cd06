"""`salesbot targets import|export`: the admin's monthly targets sheet, re-runnable, with a report and rejects.

One sheet, one row per target: 账号 or 姓名 (a rep), or 区域 (a region; 全公司 for the company), 月份 (2026-12),
指标 (签约/回款/新客户/拜访), 目标. Headers are matched by the usual synonyms; a rerun of the same sheet changes
nothing; rows that cannot be used go to a rejects file beside the input (the customer import's format and
rules: services/sheet_import.write_rejects). A later row for the same target in one file wins and the
earlier one is counted as replaced. The sheet may give reps more than their region's target: the admin
decides, and the report points it out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.targets import fmt
from chat.errors import DomainError
from models import Target, User, norm_userid
from models.targets import METRIC_LABELS, MONEY_METRICS, Level, Metric
from services.parsing import AmountError, normalize_text, parse_amount
from services.sheet_import import ImportReport, RejectedRow, write_rejects
from services.tabular import read_rows
from services.target_months import SHANGHAI, month_bounds, parse_metric, parse_month
from services.targets import done_by_user as _done
from services.targets import members, upsert_target

COMPANY_WORDS = ("全公司", "公司", "全国", "总部")
HEADERS: dict[str, tuple[str, ...]] = {
    "userid": ("账号", "用户账号", "userid", "工号", "企业微信账号"),
    "name": ("姓名", "销售", "销售员", "name", "人员"),
    "region": ("区域", "地区", "片区", "region"),
    "month": ("月份", "月", "month", "期间"),
    "metric": ("指标", "类型", "metric", "目标类型"),
    "value": ("目标", "目标值", "target", "value", "金额", "数量"),
}


@dataclass
class TargetImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    replaced_in_file: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    def summary(self) -> str:
        lines = [
            f"共 {self.rows} 行：新设 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
            f"文件内被后面的行替换 {self.replaced_in_file}，跳过 {len(self.rejected)}"
        ]
        lines += [f"  第 {r.line} 行：{r.reason}" for r in self.rejected[:50]]
        lines += [f"提示：{w}" for w in self.warnings]
        if self.rejects_path is not None:
            lines.append(f"跳过的行已写入 {self.rejects_path}，改正后可直接再导入这个文件。")
        return "\n".join(lines)


def _key(header: str) -> str:
    return normalize_text(header).lower().replace(" ", "").rstrip("*")


def _columns(headers: list[str]) -> dict[str, int]:
    lookup = {_key(n): k for k, names in HEADERS.items() for n in names}
    found: dict[str, int] = {}
    for i, h in enumerate(headers):
        k = lookup.get(_key(h))
        if k is not None and k not in found:
            found[k] = i
    return found


class _Reject(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def _value(metric: Metric, raw: str) -> Decimal:
    try:
        value = parse_amount(raw if metric in MONEY_METRICS else raw.rstrip("个次家"))
    except AmountError:
        raise _Reject("目标无效", f"目标无效：{raw}") from None
    if metric not in MONEY_METRICS and value != value.to_integral_value():
        raise _Reject("目标无效", f"{METRIC_LABELS[metric]}目标应是整数：{raw}")
    return value


def import_targets(
    session: Session, *, path: Path, now: datetime, actor: str = "import"
) -> TargetImportReport:
    """Apply the sheet; never commits. Raises DomainError when a needed column is missing."""
    headers, rows = read_rows(path)
    cols = _columns(headers)
    missing = [
        label for k, label in (("month", "月份"), ("metric", "指标"), ("value", "目标")) if k not in cols
    ]
    if missing or not ({"userid", "name", "region"} & cols.keys()):
        need = "、".join(missing) if missing else "账号、姓名或区域"
        raise DomainError(f"{path.name}：缺少列 {need}。第一行应是表头，例如：账号,姓名,区域,月份,指标,目标")
    users = list(session.scalars(select(User)))
    by_id = {u.userid: u for u in users}
    by_name: dict[str, list[User]] = defaultdict(list)
    for u in users:
        by_name[normalize_text(u.name)].append(u)
    regions = {u.region for u in users if u.region}
    today = now.astimezone(SHANGHAI).date()
    report = TargetImportReport()
    wanted: dict[tuple[Level, str, str, Metric], tuple[int, Decimal]] = {}

    def cell(cells: list[str], k: str) -> str:
        i = cols.get(k)
        return normalize_text(cells[i]) if i is not None and i < len(cells) else ""

    for line, cells in enumerate(rows, start=2):
        report.rows += 1
        try:
            level, key = _who(
                cell(cells, "userid"),
                cell(cells, "name"),
                cell(cells, "region"),
                by_id=by_id,
                by_name=by_name,
                regions=regions,
            )
            try:
                month = parse_month(cell(cells, "month"), today=today)
                metric = parse_metric(cell(cells, "metric"))
            except DomainError as exc:
                raise _Reject("月份或指标无效", exc.message) from None
            raw = cell(cells, "value")
            if not raw:
                raise _Reject("缺少目标", "缺少目标值")
            value = _value(metric, raw)
        except _Reject as rej:
            report.rejected.append(RejectedRow(line, list(cells), rej.reason, rej.kind))
            continue
        if (level, key, month, metric) in wanted:
            report.replaced_in_file += 1
        wanted[(level, key, month, metric)] = (line, value)
    for (level, key, month, metric), (_, value) in wanted.items():
        _, outcome = upsert_target(
            session, level=level, key=key, month=month, metric=metric, value=value, actor=actor, now=now
        )
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.warnings = _over_region(session, months={m for (_, _, m, _) in wanted})
    if report.rejected:
        shell = ImportReport(rejected=report.rejected, headers=list(headers))
        report.rejects_path = write_rejects(path, shell, now=now)
    return report


def _who(
    userid: str,
    name: str,
    region: str,
    *,
    by_id: dict[str, User],
    by_name: dict[str, list[User]],
    regions: set[str],
) -> tuple[Level, str]:
    if userid or name:
        user = by_id.get(norm_userid(userid)) if userid else None
        if user is None and name:
            named = by_name.get(name, [])
            if len(named) > 1:
                raise _Reject("姓名重名", f"「{name}」有重名，请写账号")
            user = named[0] if named else None
        if user is None:
            raise _Reject("人员不存在", f"组织架构里没有：{userid or name}")
        if not user.active:
            raise _Reject("人员已停用", f"人员已停用：{userid or name}")
        return Level.REP, user.userid
    if region in COMPANY_WORDS:
        return Level.COMPANY, ""
    if region:
        if region not in regions:
            raise _Reject("区域不存在", f"没有这个区域：{region}")
        return Level.REGION, region
    raise _Reject("缺少对象", "每行须写 账号、姓名 或 区域（全公司写「全公司」）")


def _over_region(session: Session, *, months: set[str]) -> list[str]:
    """Regions whose reps' targets add up to more than the region's own target (pointed out, not refused)."""
    out: list[str] = []
    region_of = {u: r for u, r in session.execute(select(User.userid, User.region))}
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    own: dict[tuple[str, str, str], Decimal] = {}
    for t in session.scalars(select(Target).where(Target.month.in_(months))):
        if t.level == Level.REP and region_of.get(t.key):
            sums[(region_of[t.key] or "", t.month, t.metric)] += Decimal(t.value)
        elif t.level == Level.REGION:
            own[(t.key, t.month, t.metric)] = Decimal(t.value)
    for k, total in sorted(sums.items()):
        if k in own and total > own[k]:
            metric = Metric(k[2])
            out.append(
                f"{k[0]} {k[1]} {METRIC_LABELS[metric]}：销售目标合计 {fmt(metric, total)}，"
                f"高于区域目标 {fmt(metric, own[k])}"
            )
    return out


def export_rows(session: Session, *, now: datetime) -> tuple[list[str], list[list[Any]]]:
    """The targets as the import reads them, plus what was done so far and the rate (re-importable)."""
    headers = ["账号", "姓名", "区域", "月份", "指标", "目标", "完成", "完成率"]
    names = {u.userid: (u.display_userid, u.name, u.region or "") for u in session.scalars(select(User))}
    out: list[list[Any]] = []
    for t in session.scalars(select(Target).order_by(Target.month, Target.level, Target.key, Target.metric)):
        level, metric = Level(t.level), Metric(t.metric)
        start, end = month_bounds(t.month)
        who = members(session, level=level, key=t.key)
        done = sum(
            _done(session, metric=metric, start=start, end=min(end, now), userids=who).values(), Decimal(0)
        )
        shown, name, region = (
            names.get(t.key, (t.key, "", "")) if level is Level.REP else ("", "", t.key or "全公司")
        )
        rate = f"{done / Decimal(t.value) * 100:.0f}%" if t.value else ""
        out.append([shown, name, region, t.month, METRIC_LABELS[metric], float(t.value), float(done), rate])
    return headers, out
