"""The org chart: import from CSV/XLSX (Chinese or English headers and role names); re-import updates in place.

The file is the source of truth: an active person it no longer lists is deactivated (issue 16 #1), unless the
administrator says the file is partial (`keep_missing`). A person whose row is in the file but rejected is
left as they were. Userids must be ones WeCom can issue (never `@all` or `a|b`, which address many people).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User, norm_userid
from services import roles
from services.tabular import read_rows

# WeCom userids: 1-64 characters of letters, digits and _ - . @, starting with a letter or digit. `@all` and
# `a|b` are addressing syntax for many recipients, never one person's id.
USERID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
USERID_RULE = "账号只能由字母、数字和 _ - . @ 组成，以字母或数字开头，最长 64 个字符"
NAME_MAX = 64
REGION_MAX = 64

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
    deactivated: list[str] = field(default_factory=list)  # "name（userid）" of people missing from the file
    kept_missing: list[str] = field(default_factory=list)  # missing but kept active (--keep-missing)
    notes: list[str] = field(
        default_factory=list
    )  # follow-up effects (re-routed approvals, ended delegations)

    def summary(self) -> str:
        lines = [
            f"新建 {len(self.created)} 人，更新 {len(self.updated)} 人，未变 {len(self.unchanged)} 人，"
            f"拒绝 {len(self.rejected)} 行"
            + (f"，停用 {len(self.deactivated)} 人" if self.deactivated else "")
        ]
        lines += [
            f"  第 {line} 行 {userid or '（无账号）'}：{reason}"
            for line, userid, reason in sorted(self.rejected)
        ]
        if self.deactivated:
            lines.append("  文件中没有、已停用：" + "、".join(self.deactivated))
        if self.kept_missing:
            lines.append(f"  文件中没有、按 --keep-missing 保留：{len(self.kept_missing)} 人")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def import_org(session: Session, *, path: Path, now: datetime, keep_missing: bool = False) -> OrgImportReport:
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
        if not USERID.match(userid.strip()):
            reject(line, record, f"账号「{userid}」无效：{USERID_RULE}")
            continue
        role_raw = record.get("role", "").strip()
        if roles.parse(role_raw, aliases=False) is None:
            reject(line, record, f"未知角色「{role_raw}」（可用：{_ROLE_CHOICES}）")
            continue
        if not record.get("name"):
            reject(line, record, "姓名为空")
            continue
        if len(record["name"]) > NAME_MAX or len(record.get("region", "")) > REGION_MAX:
            reject(line, record, f"姓名或区域过长（各最多 {NAME_MAX} 个字）")
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
            manager = (
                norm_userid(manager_raw) if norm_userid(manager_raw) in known else by_name.get(manager_raw)
            )
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
                reject(
                    line, record, manager_rejected(record.get("manager", "").strip(), lines_by_id[manager])
                )
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
    for user in sorted(existing.values(), key=lambda u: u.id):
        if user.userid in seen or not user.active:
            continue
        if keep_missing:
            report.kept_missing.append(user.userid)
            continue
        user.active = False
        user.updated_at = now
        report.deactivated.append(f"{user.name}（{user.display_userid}）")
    session.flush()
    return report
