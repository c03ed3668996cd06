"""The org chart: import from CSV/XLSX (Chinese or English headers and role names); re-import updates in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User, norm_userid
from services import roles
from services.tabular import read_rows

HEADERS = {
    "userid": "userid",
    "账号": "userid",
    "帐号": "userid",
    "name": "name",
    "姓名": "name",
    "role": "role",
    "角色": "role",
    "region": "region",
    "区域": "region",
    "manager": "manager",
    "上级": "manager",
}

_ROLE_CHOICES = roles.labels(roles.ALL)


@dataclass
class OrgImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, userid, reason)

    def summary(self) -> str:
        lines = [
            f"新建 {len(self.created)} 人，更新 {len(self.updated)} 人，未变 {len(self.unchanged)} 人，"
            f"拒绝 {len(self.rejected)} 行"
        ]
        lines += [f"  第 {line} 行 {userid or '（无账号）'}：{reason}" for line, userid, reason in sorted(self.rejected)]
        return "\n".join(lines)


def import_org(session: Session, *, path: Path, now: datetime) -> OrgImportReport:
    headers, rows = read_rows(path)
    columns = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for h in headers]
    missing = {"userid", "name", "role"} - set(c for c in columns if c)
    if missing:
        raise ValueError(
            f"缺少列：{'、'.join(sorted(missing))}（表头应为 userid,name,role,region,manager 或 账号,姓名,角色,区域,上级）"
        )
    report = OrgImportReport()
    parsed: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    # Rows rejected in this file, by userid and by name -> line: people under them must not point at nobody.
    failed_ids: dict[str, int] = {}
    failed_names: dict[str, int] = {}

    def reject(line: int, record: dict[str, str], reason: str) -> None:
        report.rejected.append((line, record.get("userid", ""), reason))
        key = norm_userid(record.get("userid", ""))
        if key:
            failed_ids.setdefault(key, line)
        if record.get("name"):
            failed_names.setdefault(record["name"], line)

    for line, cells in enumerate(rows, start=2):
        record = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns) if col}
        userid = record.get("userid", "")
        key = norm_userid(userid)
        if not key:
            report.rejected.append((line, "", "账号为空"))
            continue
        if key in seen:
            report.rejected.append((line, userid, f"账号重复（第 {seen[key]} 行已有）"))
            continue
        seen[key] = line
        role_raw = record.get("role", "").strip()
        if roles.parse(role_raw, aliases=False) is None:
            reject(line, record, f"未知角色「{role_raw}」（可用：{_ROLE_CHOICES}）")
            continue
        if not record.get("name"):
            reject(line, record, "姓名为空")
            continue
        parsed.append((line, record))
    existing = {u.userid: u for u in session.scalars(select(User))}
    known = set(existing) | {norm_userid(r["userid"]) for _, r in parsed}
    by_name = {r["name"]: norm_userid(r["userid"]) for _, r in parsed}
    by_name.update({u.name: u.userid for u in existing.values() if u.name not in by_name})
    lines_by_id = {norm_userid(r["userid"]): line for line, r in parsed}

    def manager_rejected(manager: str, line: int) -> str:
        return f"上级「{manager}」（第 {line} 行）未导入，本行也未导入；请先改正第 {line} 行，再重新导入"

    # Resolve every manager first, then drop people whose manager's row was rejected (and so on down the
    # chain): nobody is saved pointing at a user who does not exist.
    resolved: list[tuple[int, dict[str, str], str | None]] = []
    for line, record in parsed:
        userid = norm_userid(record["userid"])
        manager_raw = record.get("manager", "").strip()
        manager = None
        if manager_raw:
            manager = norm_userid(manager_raw) if norm_userid(manager_raw) in known else by_name.get(manager_raw)
            if manager is None:
                failed_line = failed_ids.get(norm_userid(manager_raw), failed_names.get(manager_raw))
                if failed_line is not None:
                    reject(line, record, manager_rejected(manager_raw, failed_line))
                else:
                    reject(line, record, f"找不到上级「{manager_raw}」（填上级的账号或姓名）")
                continue
            if manager == userid:
                reject(line, record, "上级不能是本人")
                continue
        resolved.append((line, record, manager))
    while True:
        keep: list[tuple[int, dict[str, str], str | None]] = []
        saved = {norm_userid(r["userid"]) for _, r, _ in resolved}
        for line, record, manager in resolved:
            if manager is not None and manager not in existing and manager not in saved:
                reject(line, record, manager_rejected(record.get("manager", "").strip(), lines_by_id[manager]))
            else:
                keep.append((line, record, manager))
        if len(keep) == len(resolved):
            break
        resolved = keep
    for _line, record, manager in resolved:
        userid = norm_userid(record["userid"])
        role_raw = record["role"].strip()
        values = {
            "display_userid": record["userid"].strip(),
            "name": record["name"],
            "role": roles.parse(role_raw, aliases=False) or roles.Role.REP,
            "region": record.get("region") or None,
            "manager_userid": manager,
            "active": True,
        }
        user = existing.get(userid)
        if user is None:
            session.add(User(userid=userid, created_at=now, updated_at=now, **values))
            report.created.append(userid)
            continue
        changed = {k: v for k, v in values.items() if getattr(user, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(user, key, value)
            user.updated_at = now
            report.updated.append(userid)
        else:
            report.unchanged.append(userid)
    session.flush()
    return report
