"""Customer import from the reps' old Excel/CSV sheets: re-runnable, with a report and a rejects file.

How a row is handled:

* headers are matched by common Chinese/English names (services/customer_headers.py) and by the configured fields'
  labels and keys; other columns are reported and ignored (the 原行号 and 原因 columns of a rejects file
  silently);
* values are normalised (`normalize_text`, phones through `normalize_phone`, choices checked by
  `customer_fields.clean_value`);
* the row matches an existing customer by `normalize_name` or, failing that, by the normalised phone —
  also customers created by earlier rows of the same file, so two rows for one customer become one
  customer, the later row filling the earlier one's blanks. A match is updated (blanks filled; `overwrite=True`
  replaces), otherwise a customer is created;
* the owner is a userid (case-insensitive) or a person's name from the org chart; a missing region is
  taken from the owner;
* rows that cannot be imported are skipped with a Chinese reason (see `RejectedRow`) and can be written to a
  rejects file beside the input (services/sheet_import.py `write_rejects`), which can be fixed and imported as it is. The rejects file
  is the input's columns plus 原行号 (the row's line in the first sheet it came from) and 原因. It is named
  after the original sheet (`x.xlsx` and `x.rejects.xlsx` both give `x.rejects.xlsx`) and never replaces an
  existing file — the clerk may be editing it: then it gets a timestamped name (`x.rejects-20261127-0830.xlsx`).

Performance: users and existing customers' match keys are loaded once; writes are deferred to the end of a
batch (bulk INSERT ... RETURNING, bulk UPDATE by primary key, bulk audit rows); no per-row queries.
The service never commits: `on_batch` (e.g. `session.commit`) is called after each flushed batch, so an
interrupted import keeps whole batches and a rerun (matching is idempotent) completes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import AuditEntry, Customer, User, norm_userid
from services.config import BusinessConfig, CustomerField
from services.customer_fields import BUILTIN_COLUMNS, clean_value, is_complete
from services.customer_headers import OWNER, match_headers
from services.parsing import PhoneError, normalize_name, normalize_text
from services.sheet_import import ImportReport, RejectedRow, rejects_path_for, write_rejects
from services.tabular import read_rows

ACTOR = "import"
BATCH_SIZE = 1000
# Core tables: executemany with every key present (ORM bulk inserts split batches on varying NULL columns).
_CUSTOMERS = cast(Table, Customer.__table__)
_AUDIT = cast(Table, AuditEntry.__table__)
_CREATE_FIELDS = (
    "name",
    "name_norm",
    "industry",
    "region",
    "contact",
    "phone",
    "phone_norm",
    "address",
    "custom",
    "owner_userid",
    "complete",
)


class _Rec:
    """One customer as the import sees it: `original` is what the database holds, `values` the target."""

    __slots__ = ("id", "original", "values", "outcome", "touched", "in_batch")

    def __init__(self, id_: int | None, original: dict[str, Any] | None, values: dict[str, Any]) -> None:
        self.id = id_
        self.original = original
        self.values = values
        self.outcome: str | None = None  # created | updated | unchanged (once flushed in this run)
        self.touched = False
        self.in_batch = False


class _Reject(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@lru_cache(maxsize=1 << 16)
def _name_key(name: str) -> str:
    return normalize_name(name)


def _norm_name(values: dict[str, Any]) -> str:
    return _name_key(values["name"])


class _Importer:
    def __init__(
        self, session: Session, *, config: BusinessConfig, now: datetime, overwrite: bool, source: str
    ) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.overwrite = overwrite
        self.source = source
        self.fields = {f.key: f for f in config.customer_fields}
        self.required = config.required_fields()
        self.users: dict[str, User] = {}
        self.users_by_name: dict[str, list[User]] = {}
        for user in session.scalars(select(User)):
            self.users[user.userid] = user
            self.users_by_name.setdefault(normalize_text(user.name), []).append(user)
        self.by_name: dict[str, _Rec] = {}
        self.by_phone: dict[str, _Rec] = {}
        cols = [
            Customer.id,
            *(getattr(Customer, c) for c in BUILTIN_COLUMNS),
            Customer.custom,
            Customer.owner_userid,
            Customer.name_norm,
        ]
        for row in session.execute(select(*cols).order_by(Customer.id)):
            values = {c: row[i + 1] for i, c in enumerate(BUILTIN_COLUMNS)}
            values["custom"] = dict(row[-3] or {})
            values["owner_userid"] = row[-2]
            rec = _Rec(row[0], _copy(values), values)
            self.by_name.setdefault(row[-1], rec)
            if values.get("phone"):
                self.by_phone.setdefault(values["phone"], rec)
        self.batch: list[_Rec] = []

    # -- one row --------------------------------------------------------------------------------------

    def parse(self, columns: list[str | None], cells: list[str]) -> dict[str, str]:
        incoming: dict[str, str] = {}
        for i, key in enumerate(columns):
            if key is None or i >= len(cells):
                continue
            raw = cells[i]
            if not raw:
                continue
            if key == OWNER:
                if owner := normalize_text(raw):
                    incoming[OWNER] = owner
                continue
            f = self.fields.get(key)
            if f is None:
                continue
            try:
                incoming[key] = clean_value(f, raw)  # normalises (NFKC, spaces, phone formats)
            except PhoneError:
                raise _Reject(f"{f.label}无效", f"{f.label}无效：{normalize_text(raw)}") from None
            except DomainError as exc:
                if not normalize_text(raw):  # only invisible characters: a blank cell
                    continue
                raise _Reject(f"{f.label}无效", exc.message) from None
        if not incoming.get("name"):
            raise _Reject("缺少客户名称", "缺少客户名称")
        return incoming

    def owner(self, raw: str) -> User:
        user = self.users.get(norm_userid(raw))
        if user is None:
            named = self.users_by_name.get(raw, [])
            if len(named) > 1:
                raise _Reject(
                    "负责人重名",
                    f"负责人「{raw}」有重名，请写账号（{'、'.join(u.display_userid for u in named)}）",
                )
            user = named[0] if named else None
        if user is None:
            raise _Reject("负责人不存在", f"负责人不存在：{raw}")
        if not user.active:
            raise _Reject("负责人已停用", f"负责人已停用：{raw}")
        return user

    def row(self, columns: list[str | None], cells: list[str]) -> tuple[str, _Rec]:
        """Apply one row in memory: ('new' | 'match' | 'merged', the customer). Raises _Reject."""
        incoming = self.parse(columns, cells)
        owner = self.owner(incoming.pop(OWNER)) if OWNER in incoming else None
        if owner is not None:
            incoming["owner_userid"] = owner.userid
            if not incoming.get("region") and owner.region:
                incoming["region"] = owner.region
        name_key = _name_key(incoming["name"])
        rec = self.by_name.get(name_key)
        if rec is None and incoming.get("phone"):
            rec = self.by_phone.get(incoming["phone"])
        if rec is None:
            if owner is None:
                raise _Reject("缺少负责人", "缺少负责人（写账号或姓名）")
            values = self.merge({"custom": {}}, incoming, fill_only=False)
            self.check_required(values)
            rec = _Rec(None, None, values)
            self.index(rec, None)
            rec.touched = rec.in_batch = True
            self.batch.append(rec)
            return "new", rec
        before = _copy(rec.values)
        # A later row for a customer an earlier row of this file already imported only fills blanks, even
        # with overwrite: the file's first row wins, so a rerun (in whatever batches) changes nothing.
        values = self.merge(_copy(rec.values), incoming, fill_only=not self.overwrite or rec.touched)
        self.check_required(values)
        rec.values = values
        self.index(rec, before)
        kind = "merged" if rec.touched else "match"
        rec.touched = True
        if not rec.in_batch:
            rec.in_batch = True
            self.batch.append(rec)
        return kind, rec

    def merge(self, values: dict[str, Any], incoming: dict[str, str], *, fill_only: bool) -> dict[str, Any]:
        custom = dict(values.get("custom") or {})
        for key, value in incoming.items():
            if key in BUILTIN_COLUMNS or key == "owner_userid":
                if not fill_only or not values.get(key):
                    values[key] = value
            elif not fill_only or not custom.get(key):
                custom[key] = value
        values["custom"] = custom
        return values

    def check_required(self, values: dict[str, Any]) -> None:
        missing = [f.label for f in self.required if not _get(values, f)]
        if missing:
            raise _Reject("缺少必填项", "缺少必填项：" + "、".join(missing))

    def index(self, rec: _Rec, before: dict[str, Any] | None) -> None:
        if before is not None:
            old_name = _norm_name(before)
            if self.by_name.get(old_name) is rec and old_name != _norm_name(rec.values):
                del self.by_name[old_name]
            old_phone = before.get("phone")
            if old_phone and self.by_phone.get(old_phone) is rec and old_phone != rec.values.get("phone"):
                del self.by_phone[old_phone]
        self.by_name.setdefault(_norm_name(rec.values), rec)
        if rec.values.get("phone"):
            self.by_phone.setdefault(rec.values["phone"], rec)

    # -- writes ---------------------------------------------------------------------------------------

    def columns_of(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {c: values.get(c) for c in BUILTIN_COLUMNS}
        out["name_norm"] = _norm_name(values)
        out["phone_norm"] = values.get("phone") or None
        out["custom"] = dict(values.get("custom") or {})
        out["owner_userid"] = values["owner_userid"]
        out["complete"] = is_complete(SimpleNamespace(**out), self.config)  # type: ignore[arg-type]
        return out

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        new = [r for r in batch if r.id is None]
        existing = [r for r in batch if r.id is not None]
        for rec in batch:
            rec.in_batch = False
        audit: list[dict[str, Any]] = []
        if new:
            rows = [
                {**self.columns_of(r.values), "created_at": self.now, "updated_at": self.now} for r in new
            ]
            # Core executemany with RETURNING ("insertmanyvalues": multi-row INSERTs, ids in parameter order).
            ids = self.session.scalars(
                _CUSTOMERS.insert().returning(_CUSTOMERS.c.id, sort_by_parameter_order=True), rows
            ).all()
            for rec, id_, row in zip(new, ids, rows, strict=True):
                rec.id = id_
                rec.original = _copy(rec.values)
                rec.outcome = rec.outcome or "created"
                audit.append(
                    self.audit_row(
                        id_,
                        "create",
                        {
                            k: v
                            for k, v in row.items()
                            if k in _CREATE_FIELDS and k not in ("name_norm", "phone_norm") and v
                        },
                    )
                )
        updates: list[dict[str, Any]] = []
        for rec in existing:
            assert rec.original is not None and rec.id is not None
            old, target = self.columns_of(rec.original), self.columns_of(rec.values)
            changes = {k: [old[k], target[k]] for k in target if old[k] != target[k]}
            if changes:
                updates.append({"id": rec.id, **target, "updated_at": self.now})
                visible = {k: v for k, v in changes.items() if k not in ("name_norm", "phone_norm")}
                audit.append(self.audit_row(rec.id, "update", visible))
                rec.original = _copy(rec.values)
                if rec.outcome in (None, "unchanged"):
                    rec.outcome = "updated"
            elif rec.outcome is None:
                rec.outcome = "unchanged"
        if updates:
            self.session.execute(
                _CUSTOMERS.update().where(_CUSTOMERS.c.id == bindparam("_id")),
                [{"_id": u.pop("id"), **u} for u in updates],
            )
        if audit:
            self.session.execute(_AUDIT.insert(), audit)
        self.session.flush()

    def audit_row(self, entity_id: int, action: str, changes: dict[str, Any]) -> dict[str, Any]:
        return {
            "actor": ACTOR,
            "entity": "customer",
            "entity_id": entity_id,
            "action": action,
            "outcome": "ok",
            "changes": changes,
            "detail": self.source[:255],
            "task_id": None,
            "at": self.now,
        }


def _copy(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out["custom"] = dict(values.get("custom") or {})
    return out


def _get(values: dict[str, Any], f: CustomerField) -> Any:
    if f.key in BUILTIN_COLUMNS:
        return values.get(f.key)
    return (values.get("custom") or {}).get(f.key)


def import_customers(
    session: Session,
    *,
    path: Path,
    config: BusinessConfig,
    now: datetime,
    overwrite: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[], None] | None = None,
    progress: Callable[[int], object] | None = None,
    write_rejects_file: bool = True,
) -> ImportReport:
    """Import a CSV/XLSX of customers; see the module docstring. Never commits (`on_batch` may).

    With `dry_run` the caller rolls back; nothing else differs (the numbers are the real ones) except that
    no rejects file is written. Raises DomainError when the sheet has no customer-name column.
    """
    headers, rows = read_rows(path)
    columns, ignored = match_headers(headers, config)
    if "name" not in columns:
        raise DomainError(
            f"{path.name}：找不到客户名称列。第一行应是表头，例如：客户名称,联系人,联系电话,行业,区域,负责人,地址"
        )
    report = ImportReport(ignored_columns=ignored, headers=list(headers), dry_run=dry_run)
    importer = _Importer(session, config=config, now=now, overwrite=overwrite, source=f"导入 {path.name}")
    touched: list[_Rec] = []
    pending = 0
    for line, cells in enumerate(rows, start=2):
        report.rows += 1
        pending += 1
        try:
            kind, rec = importer.row(columns, cells)
        except _Reject as rej:
            report.rejected.append(RejectedRow(line, list(cells), rej.reason, rej.kind))
        else:
            if kind == "merged":
                report.merged += 1
            else:
                touched.append(rec)
        if pending >= batch_size:
            importer.flush()
            if on_batch is not None:
                on_batch()
            if progress is not None:
                progress(pending)
            pending = 0
    importer.flush()
    if on_batch is not None:
        on_batch()
    if progress is not None and pending:
        progress(pending)
    counts = Counter(rec.outcome for rec in touched)
    report.created, report.updated, report.unchanged = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )
    if write_rejects_file and not dry_run:
        report.rejects_path = write_rejects(path, report, now=now)
    base = rejects_path_for(path)
    if base.exists() and base != report.rejects_path:
        report.rejects_kept = base
    return report
